// PortalManager: one FIFO per remote room, run on the caller's thread when idle and by worker
// threads after an asynchronous step (room creation, media upload) finishes.
#include "bridge/portal_manager.h"
#include "bridge/remote_event_json.h"
#include "util/thread_name.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

namespace mxbridge::detail {
namespace {

// What handling the front event of a portal came to.
enum class Step {
    Done,     // handed to the intents (or deliberately ignored)
    Wait,     // waiting for a room creation or an upload; the portal holds its later events
    Drop,     // no portal and none to create
    FailAll,  // the room could not be created: every waiting event failed
};

// Events handled per turn before a worker lets other portals go.
constexpr size_t kWorkerBatch = 64;

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

const char* typeName(const RemoteEvent& event) { return kRemoteEventTypes[event.index()]; }

// The remote room an event belongs to; empty for RemoteProfile (no room).
RemoteRoomId remoteRoomOf(const RemoteEvent& event) {
    return std::visit(Overloaded{
                          [](const RemoteMessage& m) { return m.portal.id; },
                          [](const RemoteProfile&) { return RemoteRoomId(); },
                          [](const auto& e) { return e.room; },
                      },
                      event);
}

// Every sender an event names, for ghost and profile upkeep.
std::vector<const RemoteSender*> sendersOf(const RemoteEvent& event) {
    return std::visit(Overloaded{
                          [](const RemoteMessage& m) { return std::vector{&m.sender}; },
                          [](const RemoteEdit& e) { return std::vector{&e.sender}; },
                          [](const RemoteRedaction& e) { return std::vector{&e.sender}; },
                          [](const RemoteReaction& e) { return std::vector{&e.sender}; },
                          [](const RemoteMembership& e) {
                              std::vector<const RemoteSender*> out{&e.user};
                              if (e.actor) out.push_back(&*e.actor);
                              return out;
                          },
                          [](const RemoteRoomUpdate& e) {
                              std::vector<const RemoteSender*> out;
                              if (e.actor) out.push_back(&*e.actor);
                              return out;
                          },
                          [](const RemotePowerLevels& e) {
                              std::vector<const RemoteSender*> out;
                              for (const auto& [sender, level] : e.levels) out.push_back(&sender);
                              return out;
                          },
                          [](const RemoteTyping& e) { return std::vector{&e.sender}; },
                          [](const RemoteProfile& e) { return std::vector{&e.sender}; },
                      },
                      event);
}

}  // namespace

struct PortalManager::State : std::enable_shared_from_this<State> {
    struct Item {
        uint64_t seq;
        RemoteEvent event;
        bool stored = false;  // held in d.waiting: removed in the commit that applies it
    };
    struct Portal {
        explicit Portal(RemoteRoomId id) : remote(std::move(id)) {}
        RemoteRoomId remote;
        std::deque<Item> queue;
        bool scheduled = false;  // a thread is running it, or it is in `ready`
        bool waiting = false;    // parked until a creation or upload result arrives
        // A room creation in flight (from a message that allows it, or from ensurePortal for
        // an alias query): every event for this remote room waits for it, whoever started it.
        bool creating = false;
        std::optional<Result<RoomId>> created;  // its result, until the runner takes it
        std::shared_future<Result<RoomId>> creation;
        // The creation in flight was started by ensurePortal: if it fails, what waits for it
        // resolves again (a message allowed to create the room tries again) instead of failing.
        bool creationForQuery = false;
        bool held = false;  // its front event has no portal and waits for alias queries to end
        std::chrono::steady_clock::time_point heldSince;
        bool holdExpired = false;  // held past aliasQueryHoldLimit: no more holding until no query is in flight
        uint64_t uploadSeq = 0;  // the queued event whose media is uploading; 0: none
        std::optional<Result<std::string>> uploaded;
        // Its front event targets a message whose send has no answer yet (key of `unanswered`).
        std::string awaitingSend;
        std::chrono::steady_clock::time_point awaitingDeadline;
        bool sendWaitExpired = false;  // waited past sendAnswerWaitLimit: go on without the target
    };
    struct GhostProfile {
        bool mapped = false;
        std::optional<std::string> displayName;
        std::optional<std::string> avatarMxc;
    };

    explicit State(Deps deps) : d(std::move(deps)), log(d.logger) {
        for (const char* type : kRemoteEventTypes) {
            byType.push_back(&d.metrics.counter("mxbridge_remote_events_total",
                                                "Remote events queued by the bridge, by type",
                                                {{"type", type}}));
        }
        portalsCreated = &d.metrics.counter("mxbridge_portals_created_total",
                                            "Matrix rooms created for remote rooms");
        creationFailures = &d.metrics.counter("mxbridge_portal_creation_failures_total",
                                              "Portal room creations that failed");
        auto failed = [&](const char* reason) {
            return &d.metrics.counter("mxbridge_remote_events_failed_total",
                                      "Remote events not (fully) delivered to Matrix, by reason",
                                      {{"reason", reason}});
        };
        failedNoPortal = failed("no_portal");
        failedCreation = failed("portal_creation");
        failedUpload = failed("media_upload");
        failedError = failed("error");
        failedStopped = failed("stopped");
    }

    // --- entry ---

    void queue(RemoteEvent event) {
        byType[event.index()]->inc();
        syncGhosts(event);
        if (std::holds_alternative<RemoteProfile>(event)) return;

        RemoteRoomId remote = remoteRoomOf(event);
        std::shared_ptr<Portal> portal;
        {
            std::lock_guard lock(mutex);
            if (stopping) {
                failedStopped->inc();
                log.warn("remote event after shutdown began, not delivered",
                         {{"remote_room", remote.str()}, {"type", typeName(event)}});
                return;
            }
            auto& slot = portals[remote];
            if (!slot) slot = std::make_shared<Portal>(remote);
            portal = slot;
            portal->queue.push_back(Item{++nextSeq, std::move(event)});
            ++pendingEvents;
            if (portal->waiting && (portal->creating || portal->held)) storeWaitingLocked(*portal);
            if (portal->scheduled || portal->waiting) return;  // its runner will get to it
            portal->scheduled = true;
            if (portal->queue.size() > 1) {
                ready.push_back(portal);
                wake.notify_one();
                return;
            }
        }
        // Idle portal, only this event: handle it here, so calls made inside a hook are
        // committed with that hook.
        run(portal, 1);
    }

    // --- ghosts ---

    Intent& intentOf(const RemoteSender& sender) {
        if (sender.ghostId.empty()) return d.bot;
        return d.intentFor(d.ghostUserId(sender.ghostId));
    }

    void syncGhosts(const RemoteEvent& event) {
        for (const RemoteSender* sender : sendersOf(event)) {
            if (sender->ghostId.empty()) continue;
            try {
                syncGhost(*sender);
            } catch (const std::exception& e) {
                failedError->inc();
                log.error("could not update the ghost",
                          {{"ghost_id", sender->ghostId}, {"remote_user", sender->id.str()},
                           {"error", e.what()}});
            }
        }
    }

    // Diffs against what this process last set: std::nullopt leaves a field alone. The cache
    // is written after the call, so a call that threw is tried again next time.
    void syncGhost(const RemoteSender& sender) {
        UserId ghost = d.ghostUserId(sender.ghostId);
        std::lock_guard lock(ghostMutex);  // held across the calls: profile changes stay in order
        GhostProfile& known = ghosts[ghost];
        if (!known.mapped && !sender.id.empty()) {
            d.users.setGhost(ghost, sender.id);
            known.mapped = true;
        }
        if (sender.displayName && known.displayName != sender.displayName) {
            d.intentFor(ghost).setDisplayName(*sender.displayName);
            known.displayName = sender.displayName;
        }
        if (sender.avatarMxc && known.avatarMxc != sender.avatarMxc) {
            d.intentFor(ghost).setAvatarUrl(*sender.avatarMxc);
            known.avatarMxc = sender.avatarMxc;
        }
    }

    // --- running a portal ---

    // Handles up to `limit` events from the front of `portal`'s FIFO; the caller has set
    // `scheduled`. Leaves the portal parked (waiting), idle, or back in `ready`.
    void run(const std::shared_ptr<Portal>& portal, size_t limit) {
        size_t handled = 0;
        std::unique_lock lock(mutex);
        while (true) {
            if (portal->queue.empty()) {
                portal->scheduled = false;
                return;
            }
            if (handled == limit) {
                ready.push_back(portal);
                wake.notify_one();
                return;
            }
            Item& item = portal->queue.front();  // stays put: only the runner pops, pushes go to the back
            lock.unlock();
            Step step = item.stored ? stepReleasing(*portal, item) : stepSafely(*portal, item);
            lock.lock();
            switch (step) {
                case Step::Done:
                case Step::Drop:
                    portal->queue.pop_front();
                    portal->uploadSeq = 0;
                    portal->uploaded.reset();
                    portal->awaitingSend.clear();
                    portal->sendWaitExpired = false;
                    finished(1);
                    ++handled;
                    break;
                case Step::Wait:
                    // The result may have come while the lock was free: then go again at once.
                    if (portal->created || portal->uploaded || portal->sendWaitExpired) break;
                    if (!portal->creating && portal->uploadSeq == 0 && !portal->held &&
                        portal->awaitingSend.empty())
                        break;  // released
                    if (portal->creating || portal->held) storeWaitingLocked(*portal);
                    portal->waiting = true;
                    portal->scheduled = false;
                    return;
                case Step::FailAll:
                    for (const Item& lost : portal->queue) {
                        failedCreation->inc();
                        log.warn("remote event not delivered: its portal could not be created",
                                 {{"remote_room", portal->remote.str()},
                                  {"type", typeName(lost.event)}});
                        if (lost.stored) d.waiting->release(lost.seq, [] { return true; });
                    }
                    finished(portal->queue.size());
                    portal->queue.clear();
                    break;
            }
        }
    }

    // The portal waits for its room: what is in its queue is written down, so a restart
    // meanwhile loses none of it. Writes are only queued here (no wait under the lock).
    void storeWaitingLocked(Portal& portal) {
        if (!d.waiting) return;
        for (Item& item : portal.queue) {
            if (item.stored) continue;
            try {
                d.waiting->hold(HeldRemoteEvent{.seq = item.seq, .remote = portal.remote,
                                                .event = remoteEventToJson(item.event)});
                item.stored = true;
            } catch (const std::exception& e) {
                log.error("could not store a remote event waiting for its portal; it waits in "
                          "memory only",
                          {{"remote_room", portal.remote.str()}, {"type", typeName(item.event)},
                           {"error", e.what()}});
            }
        }
    }

    // A stored event: its intent calls and its removal from the store commit together.
    Step stepReleasing(Portal& portal, const Item& item) {
        Step step = Step::Done;
        try {
            d.waiting->release(item.seq, [&] {
                step = stepSafely(portal, item);
                return step != Step::Wait;
            });
        } catch (const std::exception& e) {
            failedError->inc();
            log.error("could not release a stored remote event",
                      {{"remote_room", portal.remote.str()}, {"error", e.what()}});
        }
        return step;
    }

    void resumeWaiting() {
        if (!d.waiting) return;
        std::vector<PendingPortalCreation> creations = d.waiting->creations();
        std::vector<HeldRemoteEvent> held = d.waiting->heldEvents();
        struct Redo {
            std::shared_ptr<Portal> portal;
            RoomCreation request;
            UserId creator;
            std::shared_ptr<std::promise<Result<RoomId>>> promise;
        };
        std::vector<Redo> redo;
        size_t resumed = 0;
        {
            std::lock_guard lock(mutex);
            for (HeldRemoteEvent& h : held) {
                nextSeq = std::max(nextSeq, h.seq);
                try {
                    RemoteEvent event = remoteEventFromJson(h.event);
                    portalLocked(h.remote)->queue.push_back(Item{h.seq, std::move(event), true});
                    ++pendingEvents;
                    ++resumed;
                } catch (const std::exception& e) {
                    // Left in the table for the operator to see; nothing else reads it.
                    failedError->inc();
                    log.error("a stored remote event could not be read back, not delivered",
                              {{"remote_room", h.remote.str()}, {"seq", h.seq}, {"error", e.what()}});
                }
            }
            for (PendingPortalCreation& c : creations) {
                // The room was linked just before the stop: only the record was left behind.
                if (!d.links.forRemote(c.remote).empty()) {
                    d.waiting->creationEnded(c.remote);
                    continue;
                }
                try {
                    RoomCreation request = roomCreationFromJson(c.request);
                    std::shared_ptr<Portal> portal = portalLocked(c.remote);
                    redo.push_back(Redo{portal, std::move(request), c.creator, nullptr});
                    redo.back().promise = beginCreationLocked(*portal, redo.back().request, c.creator);
                } catch (const std::exception& e) {
                    failedError->inc();
                    log.error("a stored portal creation could not be read back; the next message "
                              "creates the room",
                              {{"remote_room", c.remote.str()}, {"error", e.what()}});
                    d.waiting->creationEnded(c.remote);
                }
            }
            for (auto& [remote, portal] : portals) {
                if (portal->queue.empty() || portal->scheduled) continue;
                portal->scheduled = true;
                ready.push_back(portal);
            }
            wake.notify_all();
        }
        if (resumed > 0 || !redo.empty())
            log.info("resuming what waited for portals before the restart",
                     {{"events", resumed}, {"creations", redo.size()}});
        for (Redo& r : redo) {
            Intent& creator = r.creator == d.bot.userId() ? d.bot : d.intentFor(r.creator);
            sendCreation(r.portal, r.request, creator, std::move(r.promise));
        }
    }

    std::shared_ptr<Portal> portalLocked(const RemoteRoomId& remote) {
        auto& slot = portals[remote];
        if (!slot) slot = std::make_shared<Portal>(remote);
        return slot;
    }

    void finished(size_t n) {
        pendingEvents -= n;
        if (pendingEvents == 0) idle.notify_all();
    }

    // A creation or upload result arrived (on whatever thread the intent calls back on).
    void resume(const std::shared_ptr<Portal>& portal, const std::function<void(Portal&)>& store) {
        std::lock_guard lock(mutex);
        if (stopping) return;
        store(*portal);
        if (portal->waiting) {
            portal->waiting = false;
            portal->scheduled = true;
            ready.push_back(portal);
            wake.notify_one();
        }
    }

    void workerLoop() {
        std::unique_lock lock(mutex);
        while (true) {
            if (awaitingPortals.empty()) {
                // Woken too when a portal starts waiting for a send's answer: its deadline
                // is this loop's to keep.
                wake.wait(lock, [&] { return stopping || !ready.empty() || !awaitingPortals.empty(); });
                if (!stopping && ready.empty()) continue;
            } else {
                wake.wait_until(lock, nextSendWaitDeadlineLocked(),
                                [&] { return stopping || !ready.empty(); });
                expireSendWaitsLocked();
                if (!stopping && ready.empty()) continue;
            }
            if (stopping) return;
            std::shared_ptr<Portal> portal = std::move(ready.front());
            ready.pop_front();
            lock.unlock();
            run(portal, kWorkerBatch);
            lock.lock();
        }
    }

    Step stepSafely(Portal& portal, const Item& item) {
        try {
            return step(portal, item);
        } catch (const std::exception& e) {
            failedError->inc();
            log.error("remote event failed",
                      {{"remote_room", portal.remote.str()}, {"type", typeName(item.event)},
                       {"error", e.what()}});
        } catch (...) {
            failedError->inc();
            log.error("remote event failed", {{"remote_room", portal.remote.str()},
                                              {"type", typeName(item.event)}});
        }
        return Step::Done;
    }

    Step step(Portal& portal, const Item& item) {
        std::vector<RoomId> rooms;
        Step resolved = resolve(portal, item.event, rooms);
        if (resolved == Step::Drop && holdDuringAliasQueries(portal)) return Step::Wait;
        if (resolved == Step::Drop) {
            failedNoPortal->inc();
            const auto* message = std::get_if<RemoteMessage>(&item.event);
            if (message) {
                log.warn("message for a remote room with no portal, dropped (queue it with "
                         "PortalInfo::createIfMissing to create one)",
                         {{"remote_room", portal.remote.str()}, {"remote_id", message->id.str()}});
            } else {
                log.debug("event for a remote room with no portal, ignored",
                          {{"remote_room", portal.remote.str()}, {"type", typeName(item.event)}});
            }
        }
        if (resolved != Step::Done) return resolved;

        return std::visit(Overloaded{
                              [&](const RemoteMessage& m) { return message(portal, item, m, rooms); },
                              [&](const RemoteEdit& e) { return edit(portal, e, rooms); },
                              [&](const RemoteRedaction& e) { return redaction(portal, e, rooms); },
                              [&](const RemoteReaction& e) { return reaction(portal, e, rooms); },
                              [&](const RemoteMembership& e) { return membership(e, rooms); },
                              [&](const RemoteRoomUpdate& e) { return roomUpdate(e, rooms); },
                              [&](const RemotePowerLevels& e) { return powerLevels(e, rooms); },
                              [&](const RemoteTyping& e) {
                                  for (const RoomId& room : rooms) intentOf(e.sender).setTyping(room, e.typing);
                                  return Step::Done;
                              },
                              [&](const RemoteProfile&) { return Step::Done; },
                          },
                          item.event);
    }

    // The Matrix rooms linked to the portal's remote room; creates one for a message that
    // allows it. The link store is read each time, so links made or removed elsewhere count.
    Step resolve(Portal& portal, const RemoteEvent& event, std::vector<RoomId>& rooms) {
        std::optional<Result<RoomId>> created;
        {
            std::lock_guard lock(mutex);
            if (portal.creating) {
                if (!portal.created) return Step::Wait;
                created = std::move(portal.created);
                portal.created.reset();
                portal.creating = false;
                if (created && !created->ok() && portal.creationForQuery) created.reset();
                portal.creationForQuery = false;
            }
        }
        // creationFinished has linked the room, or logged and counted the failure. An alias
        // query's failed creation was never asked for by these events: they resolve again.
        if (created && !created->ok()) return Step::FailAll;
        for (const Link& link : d.links.forRemote(portal.remote)) rooms.push_back(link.room);
        if (rooms.empty() && created) rooms.push_back(created->value());
        if (!rooms.empty()) return Step::Done;

        const auto* message = std::get_if<RemoteMessage>(&event);
        if (!message || !message->portal.createIfMissing) return Step::Drop;
        std::shared_ptr<Portal> self = portalPtr(portal);
        Intent& creator = creatorOf(*message);
        RoomCreation request = creationFor(message->portal, creator.userId());
        std::shared_ptr<std::promise<Result<RoomId>>> promise;
        {
            std::lock_guard lock(mutex);
            promise = beginCreationLocked(*self, request, creator.userId());
        }
        sendCreation(self, request, creator, std::move(promise));
        return Step::Wait;
    }

    // A private chat is created by the remote user's ghost, so clients list it as a chat with
    // that person (not with the bot, which joins only when it must); other portals by the bot.
    Intent& creatorOf(const RemoteMessage& message) {
        return message.portal.directWith ? intentOf(message.sender) : d.bot;
    }

    RoomCreation creationFor(const PortalInfo& info, const UserId& creator) {
        RoomCreation creation;
        creation.name = info.name;
        creation.topic = info.topic;
        if (!info.aliasId.empty()) creation.aliasLocalpart = d.aliasFor(info.aliasId);
        creation.isPublic = info.isPublic;
        if (info.directWith) {
            creation.isDirect = true;
            creation.invite.push_back(*info.directWith);
        }
        for (const UserId& user : info.invite)
            if (std::find(creation.invite.begin(), creation.invite.end(), user) == creation.invite.end())
                creation.invite.push_back(user);
        // MSC2346 bridge info, under the stable and the unstable type.
        nlohmann::json bridge = {
            {"bridgebot", d.bot.userId().str()},
            {"creator", creator.str()},
            {"protocol", {{"id", d.bridgeName}, {"displayname", d.networkName}}},
            {"channel", {{"id", info.id.str()}, {"displayname", info.name}}},
        };
        std::string stateKey = "mxbridge://" + d.bridgeName + "/" + info.id.str();
        creation.initialState.emplace_back("m.bridge", stateKey, bridge);
        creation.initialState.emplace_back("uk.half-shot.bridge", stateKey, bridge);
        return creation;
    }

    // Marks `portal` as being created; the caller holds `mutex` and sends the request next.
    // The request is written down first (under the lock, so before any event stored as
    // waiting for it): a restart redoes it.
    std::shared_ptr<std::promise<Result<RoomId>>> beginCreationLocked(Portal& portal, const RoomCreation& request,
                                                                      const UserId& creator) {
        if (d.waiting) {
            d.waiting->creationStarted(PendingPortalCreation{
                .remote = portal.remote, .creator = creator, .request = roomCreationToJson(request)});
        }
        auto promise = std::make_shared<std::promise<Result<RoomId>>>();
        portal.creating = true;
        portal.creationForQuery = false;
        portal.created.reset();
        portal.creation = promise->get_future().share();
        return promise;
    }

    void sendCreation(const std::shared_ptr<Portal>& portal, const RoomCreation& creation,
                      Intent& creator, std::shared_ptr<std::promise<Result<RoomId>>> promise) {
        log.debug("creating portal",
                  {{"remote_room", portal->remote.str()}, {"creator", creator.userId().str()}});
        std::weak_ptr<State> weak = weak_from_this();
        auto done = [weak, portal, promise](Result<RoomId> result) {
            if (auto state = weak.lock()) state->creationFinished(portal, result);
            promise->set_value(std::move(result));
        };
        try {
            creator.createRoom(creation, done);
        } catch (const std::exception& e) {
            done(Error::transient("create_room_threw", e.what()));
        }
    }

    // The room exists (or could not be made): link it before anyone waiting looks for the
    // link, then let the portal's waiting events go in their order.
    void creationFinished(const std::shared_ptr<Portal>& portal, const Result<RoomId>& result) {
        if (result.ok()) d.links.link(Link{result.value(), portal->remote});
        // After the link: a restart in between finds the link and does not redo the creation.
        // A failure is not redone either; as before, the next message tries again.
        if (d.waiting) d.waiting->creationEnded(portal->remote);
        if (result.ok()) {
            portalsCreated->inc();
            log.info("portal created",
                     {{"remote_room", portal->remote.str()}, {"room_id", result.value().str()}});
        } else {
            creationFailures->inc();
            log.error("could not create the portal room; its waiting events fail, the next "
                      "message tries again",
                      {{"remote_room", portal->remote.str()}, {"code", result.error().code},
                       {"reason", result.error().message}});
        }
        std::lock_guard lock(mutex);
        if (stopping) return;
        if (!portal->scheduled && !portal->waiting) {
            portal->creating = false;  // nothing queued waits for it (an alias query's creation)
            return;
        }
        portal->created = result;
        if (portal->waiting) {
            portal->waiting = false;
            portal->scheduled = true;
            ready.push_back(portal);
            wake.notify_one();
        }
    }

    // A bridge answering an alias query starts joining the remote room before ensurePortal
    // marks its portal as being created, so what it reports in between (the first NAMES
    // replies) would find no portal: such events wait until no alias query is in flight.
    bool holdDuringAliasQueries(Portal& portal) {
        std::lock_guard lock(mutex);
        if (aliasQueries == 0 || portal.holdExpired) return false;
        if (!portal.held) {
            portal.held = true;
            portal.heldSince = std::chrono::steady_clock::now();
            heldPortals.push_back(portals.at(portal.remote));
        }
        return true;
    }

    // The last query's end releases every held portal; an earlier one only those held past
    // aliasQueryHoldLimit (overlapping queries would otherwise hold them without end).
    void aliasQueryEnded() {
        std::lock_guard lock(mutex);
        --aliasQueries;
        auto now = std::chrono::steady_clock::now();
        std::erase_if(heldPortals, [&](const std::shared_ptr<Portal>& portal) {
            bool expired = now - portal->heldSince >= d.aliasQueryHoldLimit;
            if (aliasQueries > 0 && !expired) return false;
            if (aliasQueries > 0) {
                portal->holdExpired = true;
                expiredPortals.push_back(portal);
            }
            portal->held = false;  // its runner, if still before parking, goes again at once
            if (portal->waiting) {
                portal->waiting = false;
                portal->scheduled = true;
                ready.push_back(portal);
            }
            return true;
        });
        if (aliasQueries == 0) {
            for (const std::shared_ptr<Portal>& portal : expiredPortals) portal->holdExpired = false;
            expiredPortals.clear();
        }
        wake.notify_all();
    }

    // ensurePortal: joins a creation in flight, or starts one; the portal's events wait for
    // it either way (they used to be dropped as "no portal" while an alias query created it).
    Result<RoomId> ensurePortal(const PortalInfo& info, const std::string& aliasLocalpart,
                                std::chrono::milliseconds timeout) {
        std::shared_future<Result<RoomId>> creation;
        std::shared_ptr<Portal> portal;
        std::shared_ptr<std::promise<Result<RoomId>>> promise;
        RoomCreation request = creationFor(info, d.bot.userId());
        request.aliasLocalpart = aliasLocalpart;
        {
            std::lock_guard lock(mutex);
            // Read under the lock: a creation that finished has linked before clearing
            // `creating`, so no second room is made for the same remote room.
            std::vector<Link> existing = d.links.forRemote(info.id);
            if (!existing.empty()) return existing.front().room;
            if (stopping) return Error::transient("stopping", "the bridge is shutting down");
            auto& slot = portals[info.id];
            if (!slot) slot = std::make_shared<Portal>(info.id);
            portal = slot;
            if (!portal->creating) {
                promise = beginCreationLocked(*portal, request, d.bot.userId());
                portal->creationForQuery = true;
            }
            creation = portal->creation;
        }
        if (promise) sendCreation(portal, request, d.bot, std::move(promise));
        if (creation.wait_for(timeout) != std::future_status::ready)
            return Error::transient("portal_timeout", "the homeserver did not create the room in time");
        return creation.get();
    }

    std::shared_ptr<Portal> portalPtr(Portal& portal) {
        std::lock_guard lock(mutex);
        return portals.at(portal.remote);
    }

    // --- sends not answered yet (their event mapping comes with the answer) ---

    static std::string sendKey(const RoomId& room, const RemoteMessageId& remoteId) {
        return room.str() + '\n' + remoteId.str();
    }

    // Before intent.sendMessage / sendReaction with a remote id: counted until sendAnswered.
    void sendHandedOver(const RoomId& room, const RemoteMessageId& remoteId) {
        if (remoteId.empty()) return;
        std::lock_guard lock(mutex);
        ++unanswered[sendKey(room, remoteId)];
    }

    void sendAnswered(const RoomId& room, const RemoteMessageId& remoteId) {
        if (remoteId.empty()) return;
        std::string key = sendKey(room, remoteId);
        std::lock_guard lock(mutex);
        auto it = unanswered.find(key);
        if (it == unanswered.end()) return;  // sent before this process started, or by a bridge directly
        if (--it->second > 0) return;
        unanswered.erase(it);
        std::erase_if(awaitingPortals, [&](const std::shared_ptr<Portal>& portal) {
            if (portal->awaitingSend != key) return false;
            portal->awaitingSend.clear();  // its runner, if still before parking, goes again at once
            rescheduleLocked(*portal);
            return true;
        });
    }

    void rescheduleLocked(Portal& portal) {
        if (!portal.waiting || stopping) return;
        portal.waiting = false;
        portal.scheduled = true;
        ready.push_back(portals.at(portal.remote));
        wake.notify_one();
    }

    // True when the event must wait: one of `targets` in one of `rooms` was handed to the
    // intents and has no answer yet. Checked for every room before anything is sent, so a
    // resumed event never sends twice to the rooms it had done.
    bool waitForUnansweredSend(Portal& portal, const std::vector<RoomId>& rooms,
                               std::initializer_list<const RemoteMessageId*> targets) {
        std::lock_guard lock(mutex);
        if (unanswered.empty()) return false;
        for (const RoomId& room : rooms) {
            for (const RemoteMessageId* target : targets) {
                if (target->empty()) continue;
                std::string key = sendKey(room, *target);
                if (!unanswered.contains(key)) continue;
                if (portal.awaitingSend == key) {
                    if (!portal.sendWaitExpired &&
                        std::chrono::steady_clock::now() < portal.awaitingDeadline)
                        return true;
                    portal.awaitingSend.clear();
                    portal.sendWaitExpired = false;
                    unanswered.erase(key);  // given up on: later events need not wait for it again
                    log.warn("the homeserver has not answered the send of the message this event "
                             "refers to; going on without it",
                             {{"remote_room", portal.remote.str()}, {"target", target->str()},
                              {"room_id", room.str()}});
                    continue;
                }
                portal.awaitingSend = key;
                portal.awaitingDeadline = std::chrono::steady_clock::now() + d.sendAnswerWaitLimit;
                portal.sendWaitExpired = false;
                awaitingPortals.push_back(portals.at(portal.remote));
                wake.notify_all();  // a worker sleeping without a deadline takes this one
                return true;
            }
        }
        return false;
    }

    std::chrono::steady_clock::time_point nextSendWaitDeadlineLocked() const {
        auto next = std::chrono::steady_clock::time_point::max();
        for (const std::shared_ptr<Portal>& portal : awaitingPortals)
            next = std::min(next, portal->awaitingDeadline);
        return next;
    }

    void expireSendWaitsLocked() {
        auto now = std::chrono::steady_clock::now();
        std::erase_if(awaitingPortals, [&](const std::shared_ptr<Portal>& portal) {
            if (portal->awaitingSend.empty()) return true;
            if (now < portal->awaitingDeadline) return false;
            portal->sendWaitExpired = true;
            rescheduleLocked(*portal);
            return true;
        });
    }

    // The Matrix event for a remote message, if it is in `room`: an event id of another
    // room linked to the same remote room means nothing here.
    std::optional<EventId> mapped(const RoomId& room, const RemoteRoomId& remote,
                                  const RemoteMessageId& id) {
        if (id.empty()) return std::nullopt;
        std::optional<EventId> event = d.eventMappings.eventFor(remote, id);
        if (!event) return std::nullopt;
        std::optional<RoomId> in = d.eventMappings.roomForEvent(*event);
        if (in && *in != room) return std::nullopt;
        return event;
    }

    // --- one handler per event type ---

    Step message(Portal& portal, const Item& item, const RemoteMessage& m,
                 const std::vector<RoomId>& rooms) {
        Intent& intent = intentOf(m.sender);
        OutgoingMessage out;
        out.kind = m.kind;
        out.body = m.body;
        out.html = m.html;
        out.timestampMs = m.timestampMs;
        if (m.media) {
            std::optional<Result<std::string>> uploaded;
            bool start = false;
            {
                std::lock_guard lock(mutex);
                if (portal.uploadSeq != item.seq) {
                    portal.uploadSeq = item.seq;
                    start = true;
                } else if (!portal.uploaded) {
                    return Step::Wait;
                } else {
                    uploaded = std::move(portal.uploaded);
                    portal.uploaded.reset();
                }
            }
            if (start) {
                startUpload(portal, item.seq, intent, *m.media);
                return Step::Wait;
            }
            if (uploaded->ok()) {
                out.media = MediaInfo{uploaded->value(), m.media->mimeType, m.media->fileName,
                                      static_cast<int64_t>(m.media->bytes.size())};
            } else {
                // Not silently dropped: the text goes through, marked, as a notice.
                failedUpload->inc();
                log.warn("media upload failed, sending the message without its attachment",
                         {{"remote_room", portal.remote.str()}, {"remote_id", m.id.str()},
                          {"file", m.media->fileName}, {"reason", uploaded->error().message}});
                out.kind = MessageKind::Notice;
                out.body = (m.body.empty() ? m.media->fileName : m.body) +
                           " (attachment could not be bridged)";
                out.html.reset();
            }
        }
        for (const RoomId& room : rooms) {
            out.replyTo = m.replyTo ? mapped(room, portal.remote, *m.replyTo) : std::nullopt;
            sendHandedOver(room, m.id);
            try {
                intent.sendMessage(room, out, m.id);
            } catch (...) {
                sendAnswered(room, m.id);
                throw;
            }
        }
        return Step::Done;
    }

    void startUpload(Portal& portal, uint64_t seq, Intent& intent, const RemoteMedia& media) {
        std::shared_ptr<Portal> self = portalPtr(portal);
        std::weak_ptr<State> weak = weak_from_this();
        auto done = [weak, self, seq](Result<std::string> result) {
            if (auto state = weak.lock())
                state->resume(self, [&](Portal& p) {
                    if (p.uploadSeq == seq) p.uploaded = std::move(result);
                });
        };
        try {
            intent.uploadMedia(media.bytes, media.mimeType, media.fileName, done);
        } catch (const std::exception& e) {
            done(Error::transient("upload_threw", e.what()));
        }
    }

    Step edit(Portal& portal, const RemoteEdit& e, const std::vector<RoomId>& rooms) {
        if (waitForUnansweredSend(portal, rooms, {&e.target})) return Step::Wait;
        Intent& intent = intentOf(e.sender);
        for (const RoomId& room : rooms) {
            OutgoingMessage out;
            out.body = e.newBody;
            out.html = e.newHtml;
            out.replaces = mapped(room, e.room, e.target);
            if (!out.replaces) {
                // Better a visible correction than a lost one.
                log.debug("edit of an unknown message, sent as a new message",
                          {{"remote_room", portal.remote.str()}, {"target", e.target.str()},
                           {"room_id", room.str()}});
                out.body = "* " + out.body;
                if (out.html) out.html = "* " + *out.html;
            }
            intent.sendMessage(room, out);
        }
        return Step::Done;
    }

    Step redaction(Portal& portal, const RemoteRedaction& e, const std::vector<RoomId>& rooms) {
        if (waitForUnansweredSend(portal, rooms, {&e.target})) return Step::Wait;
        for (const RoomId& room : rooms) {
            if (auto target = mapped(room, e.room, e.target)) {
                intentOf(e.sender).redact(room, *target, e.reason);
            } else {
                log.debug("redaction of an unknown message, ignored",
                          {{"remote_room", portal.remote.str()}, {"target", e.target.str()},
                           {"room_id", room.str()}});
            }
        }
        return Step::Done;
    }

    Step reaction(Portal& portal, const RemoteReaction& e, const std::vector<RoomId>& rooms) {
        if (waitForUnansweredSend(portal, rooms, {e.removed ? &e.id : &e.target})) return Step::Wait;
        for (const RoomId& room : rooms) {
            if (e.removed) {
                if (auto own = mapped(room, e.room, e.id)) {
                    intentOf(e.sender).redact(room, *own, {});
                    continue;
                }
            } else if (auto target = mapped(room, e.room, e.target)) {
                sendHandedOver(room, e.id);
                try {
                    intentOf(e.sender).sendReaction(room, *target, e.key, e.id);
                } catch (...) {
                    sendAnswered(room, e.id);
                    throw;
                }
                continue;
            }
            log.debug(e.removed ? "removal of an unknown reaction, ignored"
                                : "reaction to an unknown message, ignored",
                      {{"remote_room", portal.remote.str()}, {"target", e.target.str()},
                       {"reaction", e.id.str()}, {"room_id", room.str()}});
        }
        return Step::Done;
    }

    Step membership(const RemoteMembership& e, const std::vector<RoomId>& rooms) {
        using Change = RemoteMembership::Change;
        if (e.user.ghostId.empty()) {
            log.debug("membership change without a ghost id, ignored", {{"remote_room", e.room.str()}});
            return Step::Done;
        }
        UserId ghost = d.ghostUserId(e.user.ghostId);
        Intent& actor = e.actor ? intentOf(*e.actor) : d.bot;
        for (const RoomId& room : rooms) {
            switch (e.change) {
                case Change::Join: d.intentFor(ghost).join(room); break;
                case Change::Leave: d.intentFor(ghost).leave(room, e.reason); break;
                case Change::Kick: actor.kick(room, ghost, e.reason); break;
                case Change::Ban: actor.ban(room, ghost, e.reason); break;
                case Change::Unban:
                    // Intent has no unban; an unban is the member event going from ban to
                    // leave, set by someone with the power to ban (spec: m.room.member).
                    actor.sendState(room, "m.room.member", ghost.str(),
                                    {{"membership", "leave"}, {"reason", e.reason}});
                    break;
            }
        }
        return Step::Done;
    }

    Step roomUpdate(const RemoteRoomUpdate& e, const std::vector<RoomId>& rooms) {
        Intent& actor = e.actor ? intentOf(*e.actor) : d.bot;
        for (const RoomId& room : rooms) {
            if (e.name) actor.setRoomName(room, *e.name);
            if (e.topic) actor.setTopic(room, *e.topic);
        }
        return Step::Done;
    }

    Step powerLevels(const RemotePowerLevels& e, const std::vector<RoomId>& rooms) {
        std::map<UserId, int> levels;
        for (const auto& [sender, level] : e.levels)
            if (!sender.ghostId.empty()) levels[d.ghostUserId(sender.ghostId)] = level;
        if (levels.empty()) return Step::Done;
        for (const RoomId& room : rooms) d.bot.setPowerLevels(room, levels);
        return Step::Done;
    }

    Deps d;
    Logger log;
    std::vector<Counter*> byType;
    Counter* portalsCreated = nullptr;
    Counter* creationFailures = nullptr;
    Counter* failedNoPortal = nullptr;
    Counter* failedCreation = nullptr;
    Counter* failedUpload = nullptr;
    Counter* failedError = nullptr;
    Counter* failedStopped = nullptr;

    mutable std::mutex mutex;  // portals, ready, the Portal fields, counts
    std::condition_variable wake;
    std::condition_variable idle;
    std::unordered_map<RemoteRoomId, std::shared_ptr<Portal>> portals;
    std::deque<std::shared_ptr<Portal>> ready;
    size_t aliasQueries = 0;                          // AliasQueryGuards alive
    std::vector<std::shared_ptr<Portal>> heldPortals;  // waiting for them to end
    std::vector<std::shared_ptr<Portal>> expiredPortals;  // held past the limit meanwhile
    // Sends handed to the intents with a remote id and not answered yet, by sendKey: their
    // event mappings are written with the answer.
    std::unordered_map<std::string, size_t> unanswered;
    std::vector<std::shared_ptr<Portal>> awaitingPortals;  // waiting for one of them
    size_t pendingEvents = 0;
    uint64_t nextSeq = 0;
    bool stopping = false;
    std::vector<std::thread> threads;

    std::mutex ghostMutex;
    std::unordered_map<UserId, GhostProfile> ghosts;
};

PortalManager::PortalManager(Deps deps) : state_(std::make_shared<State>(std::move(deps))) {
    unsigned workers = std::max(1u, state_->d.workers);
    for (unsigned i = 0; i < workers; ++i)
        state_->threads.emplace_back([state = state_.get()] {
            nameThisThread("mxb-portals");
            state->workerLoop();
        });
}

PortalManager::~PortalManager() { stop(); }

void PortalManager::queueRemote(RemoteEvent event) {
    try {
        state_->queue(std::move(event));
    } catch (const std::exception& e) {
        // Reached only if bookkeeping itself failed (allocation); handlers catch their own.
        state_->failedError->inc();
        state_->log.error("could not queue a remote event", {{"error", e.what()}});
    }
}

void PortalManager::resumeWaiting() { state_->resumeWaiting(); }

void PortalManager::sendAnswered(const RoomId& room, const RemoteMessageId& remoteId) {
    state_->sendAnswered(room, remoteId);
}

Result<RoomId> PortalManager::ensurePortal(const PortalInfo& info, const std::string& aliasLocalpart,
                                           std::chrono::milliseconds timeout) {
    return state_->ensurePortal(info, aliasLocalpart, timeout);
}

std::shared_ptr<void> PortalManager::aliasQueryInFlight() {
    {
        std::lock_guard lock(state_->mutex);
        ++state_->aliasQueries;
    }
    return std::shared_ptr<void>(nullptr, [state = state_](void*) { state->aliasQueryEnded(); });
}

bool PortalManager::waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    return state_->idle.wait_for(lock, timeout, [&] { return state_->pendingEvents == 0; });
}

size_t PortalManager::pending() const {
    std::lock_guard lock(state_->mutex);
    return state_->pendingEvents;
}

void PortalManager::stop() {
    {
        std::lock_guard lock(state_->mutex);
        if (state_->stopping) return;
        state_->stopping = true;
        state_->wake.notify_all();
    }
    for (std::thread& t : state_->threads) t.join();
    std::lock_guard lock(state_->mutex);
    // Events stored as waiting for their portal are not lost: the next start resumes them.
    size_t kept = 0;
    for (const auto& [remote, portal] : state_->portals)
        kept += std::count_if(portal->queue.begin(), portal->queue.end(),
                              [](const State::Item& item) { return item.stored; });
    if (kept > 0)
        state_->log.info("remote events waiting for their portal are kept for the next start",
                         {{"count", kept}});
    if (size_t lost = state_->pendingEvents - kept; lost > 0) {
        state_->failedStopped->inc(lost);
        state_->log.warn("remote events not delivered at shutdown", {{"count", lost}});
    }
}

}  // namespace mxbridge::detail
