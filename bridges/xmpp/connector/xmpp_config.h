// The `bridge:` section of an XMPP bridge, read and checked without touching the network:
//
//     bridge:
//       type: xmpp
//       component:
//         jid: matrix.example.com    # the component's name on the XMPP server
//         secret: ...                 # its component_secret / password there
//         host: 127.0.0.1             # where the server's component port listens
//         port: 5347
#pragma once

#include "mxbridge/config.h"
#include "mxbridge/xmpp/component_connection.h"

namespace mxbridge::xmpp {

struct XmppBridgeConfig {
    ComponentOptions component;
};

// Throws ConfigError naming file:line and the key for an unknown key, a component jid that
// is not a bare domain, an empty secret, or a port out of range.
XmppBridgeConfig parseXmppBridgeConfig(const ConfigSection& section);

}  // namespace mxbridge::xmpp
