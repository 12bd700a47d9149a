// What a bridge sent and waits to see come back from its network: an IRC server's
// echo-message, a MUC's reflection, libpurple's report of a sent IM, a Slack event for the
// bridge's own post. Every such network needs the same three things, done here once:
//   - remember the Matrix event a send came from, under the key its echo will carry;
//   - take it back when the echo comes (the echo is ours: map it, do not bridge it again);
//   - give up after a time-out, and tell the sender their message may not have arrived.
// Bounded: past `capacity` the oldest wait is given up early (reported like a time-out, never
// dropped silently). Thread-safe; nothing is called under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "mxbridge/connector.h"

namespace mxbridge {

// Where a sent line came from: whom to tell when its echo never comes.
struct EchoOrigin {
    RoomId room;
    EventId event;
};

template <typename Payload = std::monostate>
class EchoMatcher {
public:
    using Clock = std::chrono::steady_clock;
    struct Settings {
        std::chrono::milliseconds timeout{std::chrono::minutes(2)};
        std::size_t capacity = 10'000;
    };
    struct Sent {
        std::string key;
        EchoOrigin origin;
        Payload payload;
    };

    explicit EchoMatcher(Settings settings) : settings_(settings) {}

    // A line went out under `key`. Expecting a key that is waited for already replaces the
    // earlier wait (the same id sent again is one line).
    void expect(std::string key, EchoOrigin origin, Payload payload = {}, Clock::time_point now = Clock::now()) {
        std::lock_guard lock(mutex_);
        const std::uint64_t seq = nextSeq_++;
        waiting_.insert_or_assign(key, Entry{.seq = seq,
                                             .deadline = now + settings_.timeout,
                                             .sent = Sent{.key = key, .origin = std::move(origin),
                                                          .payload = std::move(payload)}});
        order_.emplace_back(seq, std::move(key));
        dropStaleFrontLocked();
        while (waiting_.size() > settings_.capacity) giveUpOldestLocked();
    }

    // The echo of `key` came: what was sent, or nullopt when it is not ours (or given up).
    std::optional<Sent> match(const std::string& key) {
        std::lock_guard lock(mutex_);
        auto it = waiting_.find(key);
        if (it == waiting_.end()) return std::nullopt;
        Sent sent = std::move(it->second.sent);
        waiting_.erase(it);
        dropStaleFrontLocked();
        return sent;
    }

    bool waitingFor(const std::string& key) const {
        std::lock_guard lock(mutex_);
        return waiting_.count(key) != 0;
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return waiting_.size();
    }

    // The sends whose echo did not come by `now` (and those pushed out by the capacity),
    // oldest first; each is forgotten, so a late echo afterwards matches nothing.
    std::vector<Sent> expire(Clock::time_point now = Clock::now()) {
        std::lock_guard lock(mutex_);
        std::vector<Sent> expired = std::move(givenUp_);
        givenUp_.clear();
        while (!order_.empty()) {
            if (staleLocked(order_.front())) {
                order_.pop_front();
                continue;
            }
            auto it = waiting_.find(order_.front().second);
            if (it->second.deadline > now) break;
            expired.push_back(std::move(it->second.sent));
            waiting_.erase(it);
            order_.pop_front();
        }
        return expired;
    }

    // expire(), and each sender told through the framework that their line may not have
    // arrived (`what` names the network's side, e.g. "the room did not confirm it").
    std::vector<Sent> expireAndReport(BridgeContext& ctx, const std::string& what, Clock::time_point now = Clock::now()) {
        std::vector<Sent> expired = expire(now);
        for (const Sent& sent : expired)
            if (!sent.origin.event.empty())
                ctx.reportDeliveryFailure(sent.origin.room, sent.origin.event,
                                          Error::permanent("no_echo", what + "; it may not have arrived"));
        return expired;
    }

private:
    struct Entry {
        std::uint64_t seq = 0;
        Clock::time_point deadline;
        Sent sent;
    };

    bool staleLocked(const std::pair<std::uint64_t, std::string>& front) const {
        auto it = waiting_.find(front.second);
        return it == waiting_.end() || it->second.seq != front.first;  // matched, or expected again
    }
    // Keeps order_ from growing while echoes come back in order and nothing expires.
    void dropStaleFrontLocked() {
        while (!order_.empty() && staleLocked(order_.front())) order_.pop_front();
    }

    void giveUpOldestLocked() {
        while (!order_.empty()) {
            bool stale = staleLocked(order_.front());
            auto it = waiting_.find(order_.front().second);
            order_.pop_front();
            if (stale) continue;
            givenUp_.push_back(std::move(it->second.sent));
            waiting_.erase(it);
            return;
        }
    }

    const Settings settings_;
    mutable std::mutex mutex_;
    std::uint64_t nextSeq_ = 1;
    std::map<std::string, Entry> waiting_;
    // (seq, key) in the order sent; stale pairs (matched or replaced) are skipped lazily.
    std::deque<std::pair<std::uint64_t, std::string>> order_;
    std::vector<Sent> givenUp_;
};

}  // namespace mxbridge
