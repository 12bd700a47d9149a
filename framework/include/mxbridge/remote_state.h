// Connection trouble is a state, not an exception. A bridge reports the state of each of its
// remote connections with one call, BridgeContext::reportState; the framework does the rest:
// logs every change, keeps the gauge mxbridge_remote_connections{network,state}, lists it in
// GET /_mxbridge/v1/state, and for a login tells its owner in their DM with the bridge bot
// when they must act (bad credentials, banned, logged out), once per change. A transient drop
// is only told (and logged at WARN) if it lasts longer than remote.transient_grace_seconds,
// so a reconnect that succeeds at once stays quiet.
#pragma once

#include <string>
#include <string_view>

#include "mxbridge/ids.h"

namespace mxbridge {

enum class RemoteState {
    Connecting,           // not connected yet, or reconnecting after a drop
    Connected,            // working
    TransientDisconnect,  // dropped; the bridge retries on its own with back-off
    BadCredentials,       // the network refused the login: the user must log in again
    Banned,               // the network refuses this account or address
    LoggedOut,            // logged out (by the user, the network, or a revoked token)
    Stopped,              // stopped on purpose (shutdown, !logout, reaped while idle)
};

// "connecting", "connected", "transient_disconnect", "bad_credentials", "banned",
// "logged_out", "stopped": the names used in logs, metrics and the state endpoint.
std::string_view remoteStateName(RemoteState state);

// States the user has to act on (log in again, appeal a ban): the owner is told in the DM.
constexpr bool needsUserAction(RemoteState state) {
    return state == RemoteState::BadCredentials || state == RemoteState::Banned ||
           state == RemoteState::LoggedOut;
}

struct RemoteStatus {
    RemoteState state = RemoteState::Connecting;
    // For people: shown to the owner and written to the log, e.g. "SASL authentication failed".
    // Must never contain a secret.
    std::string reason;
    // For monitors: a stable code, e.g. "sasl_failed"; optional.
    std::string code;
};

// Whose connection a status describes: a login (owner set) or one of the bridge's own
// connections (owner empty: the relay bot on an IRC network, an XMPP component, a Slack
// socket).
struct StateSubject {
    std::string network;  // the bridge's name for the network, e.g. "libera"
    UserId owner;         // the Matrix user whose login this is; empty for the bridge's own
    std::string loginId;  // which of the owner's logins on `network`; empty for the only one
};

}  // namespace mxbridge
