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
//       gateway:                      # the component as a MUC service for Matrix rooms
//         enabled: false              # XMPP users may join Matrix rooms as MUCs
//         room: "{alias}#{server}"    # lounge#example.org@matrix.example.com is #lounge:example.org
//         servers: []                 # homeservers whose aliases may be joined; empty: the bridge's own
#pragma once

#include "mxbridge/config_section.h"
#include <string>
#include <vector>

#include "gateway_rooms.h"
#include "muc.h"
#include "mxbridge/xmpp/component_connection.h"

namespace mxbridge::xmpp {

struct MucOptions {
    MucAliasTemplate alias = *MucAliasTemplate::parse("xmpp_{room}_{service}");
    std::string nick = "Matrix";
    std::vector<std::string> services;  // lower case; empty: any service

    bool allows(const Jid& room) const;
};

struct GatewayOptions {
    bool enabled = false;
    GatewayRoomTemplate room = *GatewayRoomTemplate::parse("{alias}#{server}");
    std::vector<std::string> servers;  // empty: the bridge's own homeserver only

    bool allows(std::string_view server, std::string_view ownServer) const;
};

struct XmppBridgeConfig {
    ComponentOptions component;
    MucOptions muc;
    GatewayOptions gateway;
};

// Throws ConfigError naming file:line and the key for an unknown key, a component jid that
// is not a bare domain, an empty secret, a port out of range, or a MUC alias template
// without {room} and {service}, a gateway room template without {alias} and {server}.
XmppBridgeConfig parseXmppBridgeConfig(const ConfigSection& section);

}  // namespace mxbridge::xmpp
