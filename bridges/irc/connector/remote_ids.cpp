// Remote ids of one IRC network (see remote_ids.h).
#include "remote_ids.h"

#include <chrono>

#include "mapping.h"

namespace mxbridge::irc {

RemoteIds::RemoteIds(std::string network, bool isDefaultNetwork)
    : network_(std::move(network)), isDefault_(isDefaultNetwork) {}

RemoteSender RemoteIds::ghost(const std::string& nick) const {
    return RemoteSender{remoteUserId(network_, nick), ghostIdFor(network_, nick, isDefault_), nick, std::nullopt};
}

RemoteMessageId RemoteIds::received(const std::string& nick, const IrcMessage& msg) {
    std::string base = network_ + "/" + foldName(nick) + "/";
    if (auto id = msg.tag("msgid"); id && !id->empty()) return RemoteMessageId(base + std::string(*id));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
    return RemoteMessageId(base + std::to_string(ms) + "-" + std::to_string(++counter_));
}

RemoteMessageId RemoteIds::sent(const std::string& nick, const EventId& event) const {
    return RemoteMessageId(network_ + "/" + foldName(nick) + "/m:" + event.str());
}

}  // namespace mxbridge::irc
