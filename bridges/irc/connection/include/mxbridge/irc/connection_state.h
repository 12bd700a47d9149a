// What an IrcConnection is doing, as a value the owner can show and act on. Trouble is a
// state, never an exception: the owner decides what to tell the Matrix user.
#pragma once

#include <string>
#include <string_view>

namespace mxbridge::irc {

enum class ConnectionState {
    Connecting,           // waiting for the connect limiter, resolving, TCP/TLS connect
    Registering,          // socket up: CAP, SASL, NICK/USER until 001
    Connected,            // registered; queued lines are flowing
    TransientDisconnect,  // lost or refused; a reconnect is scheduled (backoff + jitter)
    Banned,               // K-/G-/Z-lined or 465: not retried until start() is called again
    BadCredentials,       // SASL or PASS rejected: not retried until start() again
    Stopped,              // stop() was called
};

std::string_view stateName(ConnectionState state);

// True for the states in which no reconnect is scheduled.
bool isTerminal(ConnectionState state);

struct StateChange {
    ConnectionState state = ConnectionState::Stopped;
    // Human-readable: the server's ERROR text, "ping timeout after 120 s", the SASL numeric…
    std::string reason;
};

}  // namespace mxbridge::irc
