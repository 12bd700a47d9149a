// One Matrix event, every remote room linked to its room: how a hook sends to each and answers
// once. Every bridge's hooks loop over `remotes`; this is that loop with one merge rule, so
// bridges do not each invent (and disagree on) what two different answers add up to.
#pragma once

#include <utility>
#include <vector>

#include "mxbridge/connector.h"

namespace mxbridge {

// The hook's answer from each room's answer. The answer its sender most needs to hear wins:
//   1. a retryable failure: the framework runs the whole hook again later, so rooms that took
//      the event already see it again unless the bridge skips them (a bridge that can fail
//      retryably in one room of several keeps its sends idempotent per room);
//   2. else a permanent failure (the sender is told);
//   3. else unsupported (the sender is told this network cannot carry it);
//   4. else delivered: with each room's id when rooms answered delivered(id)
//      (HookResult::deliveredPerRoom; rooms without an id are left unmapped);
//   5. else ignored (also when there was no room).
// Among answers of the same rank, the first room's.
HookResult mergeRoomResults(const std::vector<std::pair<RemoteRoomId, HookResult>>& results);

// Calls `send(remote)` for each room, in order, and merges their answers as above. `send`
// answers HookResult::ignored() for a room that is not its business (another network's, say).
template <typename Send>
HookResult forEachRemote(const std::vector<RemoteRoomId>& remotes, Send&& send) {
    std::vector<std::pair<RemoteRoomId, HookResult>> results;
    results.reserve(remotes.size());
    for (const RemoteRoomId& remote : remotes) results.emplace_back(remote, send(remote));
    return mergeRoomResults(results);
}

}  // namespace mxbridge
