// The names of remote states, as logs, metrics and the state endpoint spell them.
#include "mxbridge/remote_state.h"

namespace mxbridge {

std::string_view remoteStateName(RemoteState state) {
    switch (state) {
        case RemoteState::Connecting: return "connecting";
        case RemoteState::Connected: return "connected";
        case RemoteState::TransientDisconnect: return "transient_disconnect";
        case RemoteState::BadCredentials: return "bad_credentials";
        case RemoteState::Banned: return "banned";
        case RemoteState::LoggedOut: return "logged_out";
        case RemoteState::Stopped: return "stopped";
    }
    return "unknown";
}

}  // namespace mxbridge
