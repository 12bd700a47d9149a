#include "mxbridge/fan_out.h"

namespace mxbridge {

namespace {

// Higher is heard first (fan_out.h).
int rank(const HookResult& result) {
    switch (result.kind()) {
        case HookResult::Kind::Failed: return result.error().retryable ? 4 : 3;
        case HookResult::Kind::Unsupported: return 2;
        case HookResult::Kind::Delivered: return 1;
        case HookResult::Kind::Ignored: return 0;
    }
    return 0;
}

}  // namespace

HookResult mergeRoomResults(const std::vector<std::pair<RemoteRoomId, HookResult>>& results) {
    const std::pair<RemoteRoomId, HookResult>* heard = nullptr;
    for (const auto& answer : results)
        if (!heard || rank(answer.second) > rank(heard->second)) heard = &answer;
    if (!heard) return HookResult::ignored();
    if (heard->second.kind() != HookResult::Kind::Delivered) return heard->second;
    std::map<RemoteRoomId, RemoteMessageId> ids;
    for (const auto& [remote, result] : results) {
        if (result.kind() != HookResult::Kind::Delivered) continue;
        if (!result.remoteId().empty()) ids.emplace(remote, result.remoteId());
        for (const auto& [room, id] : result.remoteIdsByRoom()) ids.emplace(room, id);
    }
    return ids.empty() ? HookResult::delivered() : HookResult::deliveredPerRoom(std::move(ids));
}

}  // namespace mxbridge
