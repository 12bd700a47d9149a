// The `bridge:` section of an XMPP bridge, read and checked without touching the network:
//
//     bridge:
//       type: xmpp
//       component:
//         jid: matrix.example.com    # the component's name on the XMPP server
//         secret: ...                 # its component_secret / password there
//         host: 127.0.0.1             # where the server's component port listens
//         port: 5347
//       muc:                          # MUC portals; every key optional
//         alias: "xmpp_{room}_{service}"   # #xmpp_room_conference.example.org:hs joins room@conference.example.org
//         nick: Matrix                # the bridge's own occupant in each portal's MUC
//         services: []                # MUC services aliases may name; empty: any
#pragma once

#include "mxbridge/config_section.h"
#include <string>
#include <vector>

#include "muc.h"
#include "mxbridge/xmpp/component_connection.h"

namespace mxbridge::xmpp {

struct MucOptions {
    MucAliasTemplate alias = *MucAliasTemplate::parse("xmpp_{room}_{service}");
    std::string nick = "Matrix";
    std::vector<std::string> services;  // lower case; empty: any service

    bool allows(const Jid& room) const;
};

struct XmppBridgeConfig {
    ComponentOptions component;
    MucOptions muc;
};

// Throws ConfigError naming file:line and the key for an unknown key, a component jid that
// is not a bare domain, an empty secret, a port out of range, or a MUC alias template
// without {room} and {service}.
XmppBridgeConfig parseXmppBridgeConfig(const ConfigSection& section);

}  // namespace mxbridge::xmpp
