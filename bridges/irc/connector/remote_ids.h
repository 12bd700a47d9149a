// The ids the IRC bridge gives the framework for what happens on one network: ghosts, and
// the remote ids of messages (read back later for edits, replies and reactions). They are
// stored by the framework, so they depend only on folded names and the network's name.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <mxbridge/ids.h>
#include <mxbridge/irc/message.h>
#include <mxbridge/remote_events.h>

namespace mxbridge::irc {

class RemoteIds {
public:
    RemoteIds(std::string network, bool isDefaultNetwork);

    // The ghost of IRC user `nick` on this network.
    RemoteSender ghost(const std::string& nick) const;
    // "<network>/<nick>/<msgid tag>", or time and a counter when the server sends no msgid.
    // Any thread.
    RemoteMessageId received(const std::string& nick, const IrcMessage& msg);
    // "<network>/<nick>/m:<event>": a Matrix message sent to IRC as `nick`.
    RemoteMessageId sent(const std::string& nick, const EventId& event) const;

private:
    std::string network_;
    bool isDefault_;
    std::atomic<std::uint64_t> counter_{0};
};

}  // namespace mxbridge::irc
