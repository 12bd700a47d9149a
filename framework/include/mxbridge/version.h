// The plug-in API version: what a bridge plug-in and the framework share in memory (the
// Connector and BridgeContext interfaces and every type their calls pass). A plug-in records
// the version it was compiled against (MXBRIDGE_BRIDGE does it), and mxbridge refuses at load
// a plug-in of another version, naming both, instead of crashing in a call whose layout
// changed. Bump it with every change to those interfaces a plug-in would have to be rebuilt
// for (a virtual function added, removed or changed; a shared struct's layout).
#pragma once

// Defined here unless the build defines it (tests build a plug-in of another version so).
#ifndef MXBRIDGE_PLUGIN_API_VERSION
// 2: BridgeContext::media() (media links). 3: BridgeContext::reportState() (remote states).
// 4: BridgeContext::remoteClients() (logins). 5: typed room changes in MatrixStateChange,
// HookResult::deliveredPerRoom (one id per linked remote room). 6: PortalInfo::invite.
// 7: BridgeContext::resolveAlias() and joinRoomAs() (gateways into existing Matrix rooms).
// 8: joinRoomAs() reads the room's last messages (JoinedRoom::history).
// 9: BridgeContext::tellUser.
#define MXBRIDGE_PLUGIN_API_VERSION 9
#endif

namespace mxbridge {

// The version this mxbridge was built with: the one plug-ins must have.
int pluginApiVersion();

}  // namespace mxbridge
