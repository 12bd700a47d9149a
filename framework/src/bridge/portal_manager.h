// What BridgeContext::queueRemote does: turns RemoteEvents into intent calls, finding or
// creating the portal (the Matrix room linked to the remote room) and the ghosts, diffing
// profiles, and keeping the order of events per remote room.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "bridge/portal_wait_store.h"
#include "mxbridge/intent.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/remote_events.h"
#include "mxbridge/store.h"

namespace mxbridge::detail {

// Ordering: every event for one remote room goes through one FIFO, in queueRemote call order,
// and reaches the intents in that order (the outbox below keeps it per Matrix room). A portal
// waiting for its room to be created, or for a media upload, holds back only its own later
// events; other portals go on. A private chat (PortalInfo::directWith) is created by the
// remote sender's ghost, other portals by the bot.
//
// Threads: queueRemote may be called from any thread and never waits for the homeserver.
// When the portal is idle the event is turned into intent calls on the caller's thread, so
// inside a hook those calls are committed with the hook's done mark (and dropped with it on a
// retry); otherwise it waits in the portal's FIFO and a worker thread of this class goes on
// once the room exists or the upload is done. Ghost profiles are diffed on the caller's
// thread, in call order, so the last name a bridge reported is the one that stays.
class PortalManager {
public:
    struct Deps {
        std::function<Intent&(const UserId&)> intentFor;  // a ghost's intent
        Intent& bot;
        LinkStore& links;
        UserStore& users;
        EventMappingStore& eventMappings;
        // The ghost for a RemoteSender::ghostId, escaped and with the user template applied:
        // BridgeContext::ghostUserId (see ghost_names.h, ghostUserIdFor).
        std::function<UserId(const std::string& ghostId)> ghostUserId;
        // The alias localpart for PortalInfo::aliasId (template applied), empty for none.
        std::function<std::string(const std::string& aliasId)> aliasFor;
        std::string bridgeName;   // BridgeInfo::name: m.bridge protocol id and state key
        std::string networkName;  // BridgeInfo::networkName: m.bridge protocol displayname
        Metrics& metrics;
        Logger logger{"portals"};
        unsigned workers = 1;  // threads that resume portals after creations and uploads
        // Where events waiting for a room creation, and the creation, are kept across a
        // restart; nullptr keeps them in memory only (unit tests without a database).
        PortalWaitStore* waiting = nullptr;
        // How long events with no portal wait for alias queries in flight (aliasQueryInFlight)
        // when queries overlap: checked as each query ends, so one query's wait for another
        // room does not hold every room's events (and memory) for as long as queries go on.
        std::chrono::milliseconds aliasQueryHoldLimit = std::chrono::seconds(30);
        // How long an edit, redaction or reaction of a message this class handed to the
        // intents waits for that send's answer (sendAnswered) before it goes on without the
        // target's event id (an edit then arrives as a marked new message).
        std::chrono::milliseconds sendAnswerWaitLimit = std::chrono::seconds(30);
    };

    explicit PortalManager(Deps deps);
    ~PortalManager();  // stop()
    PortalManager(const PortalManager&) = delete;
    PortalManager& operator=(const PortalManager&) = delete;

    // At start-up, before the bridge queues anything: redoes the room creations the last run
    // left unfinished and queues the events that waited for them, in their order. A creation
    // that had linked its room before the stop is not redone.
    void resumeWaiting();

    // BridgeContext::queueRemote. A sender with an empty ghostId is the bot (relayed).
    void queueRemote(RemoteEvent event);

    // The portal's Matrix room, created (with `aliasLocalpart` and the bridge state) and linked
    // first if there is none: for alias queries, which may answer only once the room exists.
    // Events queued for the remote room meanwhile wait for the room (the bridge is typically
    // joining the remote room and reporting its members and topic); a creation already in
    // flight is joined, not repeated. Blocks up to `timeout`; call it from a query thread,
    // never from a hook.
    Result<RoomId> ensurePortal(const PortalInfo& info, const std::string& aliasLocalpart,
                                std::chrono::milliseconds timeout);

    // Held by an alias query from before onAliasQuery until ensurePortal returns: meanwhile
    // events for remote rooms without a portal wait instead of being dropped, because the
    // bridge may report the remote room (joining it) before ensurePortal marks the portal.
    // When the last one is released, events still without a portal are dropped and counted.
    [[nodiscard]] std::shared_ptr<void> aliasQueryInFlight();

    // The homeserver answered (or refused for good) a send made for `remoteId` in `room`;
    // called after its event mapping is written. Until then an edit, redaction or reaction of
    // that remote message waits in its portal's FIFO (see Deps::sendAnswerWaitLimit): the
    // mapping it needs is written only with the answer, and a remote network can edit a line
    // a few milliseconds after sending it.
    void sendAnswered(const RoomId& room, const RemoteMessageId& remoteId);

    // Waits until every queued event has been handed to the intents (or failed); false on
    // timeout. For shutdown (call before stop()) and tests.
    bool waitIdle(std::chrono::milliseconds timeout);
    // Events queued and not yet handed to the intents.
    size_t pending() const;
    // Stops the workers; events still waiting (for an upload, or for a room creation without
    // Deps::waiting) are logged as not delivered; stored ones are kept for resumeWaiting(). Later queueRemote calls are logged and counted, not delivered.
    void stop();

private:
    struct State;
    std::shared_ptr<State> state_;  // shared with in-flight createRoom/uploadMedia callbacks
};

}  // namespace mxbridge::detail
