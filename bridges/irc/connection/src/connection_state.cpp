// Names for connection states, as they appear in logs and bridge-state reports.
#include "mxbridge/irc/connection_state.h"

namespace mxbridge::irc {

std::string_view stateName(ConnectionState state) {
    switch (state) {
        case ConnectionState::Connecting: return "Connecting";
        case ConnectionState::Registering: return "Registering";
        case ConnectionState::Connected: return "Connected";
        case ConnectionState::TransientDisconnect: return "TransientDisconnect";
        case ConnectionState::Banned: return "Banned";
        case ConnectionState::BadCredentials: return "BadCredentials";
        case ConnectionState::Stopped: return "Stopped";
    }
    return "Unknown";
}

bool isTerminal(ConnectionState state) {
    return state == ConnectionState::Banned || state == ConnectionState::BadCredentials ||
           state == ConnectionState::Stopped;
}

}  // namespace mxbridge::irc
