// Events Slack delivered, kept in the bridge's store from the moment they are acknowledged
// until they are bridged, and remembered by event_id afterwards so a redelivery (Slack
// retries a delivery it thinks failed, up to three times over about five minutes, and after
// a restart of ours too) is acknowledged again but bridged once.
//
// One store entry per event, "slack/event/<event_id>", written before Slack gets its 2xx:
// pending with the envelope, then done without it. A single write per step is what makes a
// crash at any point lose nothing (a pending entry is bridged after the restart) and double
// nothing (a done entry answers the redelivery).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/connector.h"
#include "mxbridge/slack/event_envelope.h"

namespace mxbridge::slack {

struct EventInboxOptions {
    // How long a bridged event's id is remembered. Slack's last retry comes about five
    // minutes after the first delivery; a day also covers a bridge that was down meanwhile.
    std::chrono::seconds rememberFor{24 * 3600};
    // Events accepted but not yet bridged, at most; past it deliveries are refused with a
    // retryable error, so Slack keeps them instead of the store growing without bound.
    std::size_t maxPending = 10000;
};

class EventInbox {
public:
    enum class Admission { Accepted, Duplicate, Full };

    // Reads back what the store holds: pending events (bridged next, in arrival order) and the
    // ids already bridged.
    EventInbox(KvStore& store, EventInboxOptions options = {});

    // Stores a delivered event unless its event_id was seen before. Returns once the store
    // has it: only then may Slack hear 2xx.
    Admission admit(const EventCallback& event, std::chrono::system_clock::time_point now);

    // The oldest event not yet bridged, if any (it stays pending until markBridged).
    std::optional<EventCallback> nextPending();
    // The framework has the event (queueRemote is durable): drop its body, keep its id.
    void markBridged(const std::string& eventId, std::chrono::system_clock::time_point now);

    std::size_t pendingCount();
    std::size_t rememberedCount();

private:
    struct Remembered {
        int64_t bridgedAtMs;
    };
    void forgetOlderThan(std::chrono::system_clock::time_point now);  // holds mutex_

    KvStore& store_;
    EventInboxOptions options_;
    std::mutex mutex_;
    uint64_t nextSeq_ = 1;
    std::deque<std::string> pendingOrder_;               // event ids, oldest first
    std::map<std::string, EventCallback> pending_;       // by event id
    std::map<std::string, int64_t> bridged_;             // event id -> bridged at (ms)
    std::multimap<int64_t, std::string> bridgedByTime_;  // for forgetting the oldest
};

}  // namespace mxbridge::slack
