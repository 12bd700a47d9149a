#include "event_inbox.h"

#include <algorithm>
#include <utility>

namespace mxbridge::slack {

namespace {

constexpr std::string_view kPrefix = "slack/event/";

int64_t toMs(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string keyOf(const std::string& eventId) { return std::string(kPrefix) + eventId; }

}  // namespace

EventInbox::EventInbox(KvStore& store, EventInboxOptions options)
    : store_(store), options_(options) {
    Logger log("slack");
    std::vector<std::pair<uint64_t, EventCallback>> pending;
    for (const auto& [key, value] : store_.list(std::string(kPrefix))) {
        std::string eventId = key.substr(kPrefix.size());
        nlohmann::json entry = nlohmann::json::parse(value, nullptr, false);
        if (!entry.is_object()) {
            log.warn("an unreadable inbox entry was skipped", {{"key", key}});
            continue;
        }
        uint64_t seq = entry.value("seq", uint64_t{0});
        nextSeq_ = std::max(nextSeq_, seq + 1);
        if (entry.value("state", std::string()) == "pending" && entry.contains("envelope")) {
            Envelope envelope = envelopeFromJson(entry["envelope"]);
            if (auto* callback = std::get_if<EventCallback>(&envelope)) {
                pending.emplace_back(seq, std::move(*callback));
                continue;
            }
            log.warn("a stored event could not be read back and is dropped", {{"event_id", eventId}});
            store_.erase(key);
            continue;
        }
        int64_t at = entry.value("at", int64_t{0});
        bridged_[eventId] = at;
        bridgedByTime_.emplace(at, eventId);
    }
    std::sort(pending.begin(), pending.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [seq, callback] : pending) {
        pendingOrder_.push_back(callback.eventId);
        pending_.emplace(callback.eventId, std::move(callback));
    }
}

EventInbox::Admission EventInbox::admit(const EventCallback& event,
                                        std::chrono::system_clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (pending_.count(event.eventId) || bridged_.count(event.eventId)) return Admission::Duplicate;
    if (pending_.size() >= options_.maxPending) return Admission::Full;
    nlohmann::json entry = {{"seq", nextSeq_},
                            {"state", "pending"},
                            {"at", toMs(now)},
                            {"envelope", envelopeToJson(event)}};
    store_.put(keyOf(event.eventId), entry.dump());
    ++nextSeq_;
    pendingOrder_.push_back(event.eventId);
    pending_.emplace(event.eventId, event);
    return Admission::Accepted;
}

std::optional<EventCallback> EventInbox::nextPending() {
    std::lock_guard lock(mutex_);
    if (pendingOrder_.empty()) return std::nullopt;
    return pending_.at(pendingOrder_.front());
}

void EventInbox::markBridged(const std::string& eventId, std::chrono::system_clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(eventId);
    if (it == pending_.end()) return;
    int64_t at = toMs(now);
    nlohmann::json entry = {{"state", "bridged"}, {"at", at}};
    store_.put(keyOf(eventId), entry.dump());
    pending_.erase(it);
    pendingOrder_.erase(std::find(pendingOrder_.begin(), pendingOrder_.end(), eventId));
    bridged_[eventId] = at;
    bridgedByTime_.emplace(at, eventId);
    forgetOlderThan(now);
}

void EventInbox::forgetOlderThan(std::chrono::system_clock::time_point now) {
    int64_t horizon = toMs(now) - std::chrono::duration_cast<std::chrono::milliseconds>(options_.rememberFor).count();
    while (!bridgedByTime_.empty() && bridgedByTime_.begin()->first < horizon) {
        auto oldest = bridgedByTime_.begin();
        store_.erase(keyOf(oldest->second));
        bridged_.erase(oldest->second);
        bridgedByTime_.erase(oldest);
    }
}

std::size_t EventInbox::pendingCount() {
    std::lock_guard lock(mutex_);
    return pending_.size();
}

std::size_t EventInbox::rememberedCount() {
    std::lock_guard lock(mutex_);
    return bridged_.size();
}

}  // namespace mxbridge::slack
