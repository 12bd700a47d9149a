// Where PortalManager keeps what waits for a portal's room to be created: the remote events
// queued meanwhile and the creation request, so that what queueRemote accepted survives a
// restart (README: nothing is dropped, also across a bridge restart).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxbridge/ids.h"

namespace mxbridge::detail {

struct HeldRemoteEvent {
    uint64_t seq;  // PortalManager's queue order
    RemoteRoomId remote;
    nlohmann::json event;  // bridge/remote_event_json.h
};

struct PendingPortalCreation {
    RemoteRoomId remote;
    UserId creator;
    nlohmann::json request;  // a RoomCreation, bridge/remote_event_json.h
};

class PortalWaitStore {
public:
    virtual ~PortalWaitStore() = default;

    // Writes are queued in call order and never wait for a hook's done mark: a held event
    // must be stored before the one that applies it can remove it.
    virtual void hold(const HeldRemoteEvent& event) = 0;
    // Runs `apply` (the held event's intent calls); when it returns true, the event is removed
    // in the same commit as the writes `apply` made (the outbox rows), so after a crash it is
    // either still held or sent, never both. Inside a hook both join the hook's commit.
    virtual bool release(uint64_t seq, const std::function<bool()>& apply) = 0;
    virtual std::vector<HeldRemoteEvent> heldEvents() = 0;  // in seq order

    virtual void creationStarted(const PendingPortalCreation& creation) = 0;
    virtual void creationEnded(const RemoteRoomId& remote) = 0;
    virtual std::vector<PendingPortalCreation> creations() = 0;
};

}  // namespace mxbridge::detail
