// One Matrix user's own connection to an IRC network: its nick, the channels it joined, the
// state of its connection. Made only by PuppetRegistry; a later puppet of the same user (after
// !reconnect, or idle and back) has a higher generation, so the callbacks of the old
// connection can tell they no longer concern anyone.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <mxbridge/connector.h>

#include "mxbridge/irc/irc_connection.h"

namespace mxbridge::irc {

class Puppet {
public:
    using Clock = std::chrono::steady_clock;

    Puppet(UserId user, std::string displayName, std::string nick, std::uint64_t generation)
        : user(std::move(user)), displayName(std::move(displayName)), nick(std::move(nick)),
          generation(generation) {}

    const UserId user;
    const std::string displayName;
    std::string nick;  // current (after fallback or !nick); renamed through PuppetRegistry
    IrcConnection conn;
    std::map<std::string, std::string> channels;  // folded -> key
    Clock::time_point lastActive = Clock::now();
    std::optional<Clock::time_point> downSince;
    ConnectionState state = ConnectionState::Connecting;
    std::string stateReason;
    const std::uint64_t generation;
    // The framework's client of this user's login here (login.h), once it has one: states are
    // reported through it, so a retired client's puppet changes nothing the user sees.
    std::optional<RemoteClientHandle> login;
    std::uint64_t loginClient = 0;  // the PuppetLoginClient that `login` belongs to; 0: none
    // That client was let go while lines still waited here: it quits once they are out.
    bool released = false;

    // Starts the connection again if it was stopped (idle, quit, refused).
    void connect();
    // JOINs `channel` (queued ahead of what it sends next) unless the puppet is there; the
    // key is remembered for reconnects.
    void joinOnce(const std::string& channel, const std::string& key);
    // The connection's new state: when it went down, and why.
    void stateChanged(const StateChange& change);
    // Why a message through this puppet fails now: banned, refused credentials, or down for
    // longer than `deadAfter`; nothing while it is usable or reconnecting briefly.
    std::optional<HookResult> unusable(const std::string& network, std::chrono::seconds deadAfter) const;
};

}  // namespace mxbridge::irc
