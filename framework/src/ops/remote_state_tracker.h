// What BridgeContext::reportState feeds: the current state of each remote connection (the
// bridge's own and each login's), kept for GET /_mxbridge/v1/state, logged when it changes,
// counted in the gauge mxbridge_remote_connections{network,state}, and told to a login's owner
// when they must act. A connected subject that drops (transient_disconnect, then connecting
// again) is held back for `transientGrace`: a reconnect within it leaves no trace but a debug
// line; a drop that outlasts it is logged at WARN, counted in
// mxbridge_remote_disconnects_total and only then moves the gauge.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mxbridge/connector.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/remote_state.h"

namespace mxbridge::detail {

// One subject's latest report, as the state endpoint lists it.
struct RemoteStateEntry {
    StateSubject subject;
    RemoteStatus status;
    int64_t sinceMs = 0;  // wall clock (ms since the epoch) when this state began
};

class RemoteStateTracker {
public:
    // Runs `task` once after `delay` on a timer thread (TimerService::after, or a test clock).
    using Schedule = std::function<TimerHandle(std::chrono::milliseconds, std::function<void()>)>;
    // Sends `text` to `owner` in their DM with the bridge bot.
    using TellOwner = std::function<void(const UserId& owner, const std::string& text)>;
    // Milliseconds since the epoch.
    using WallClock = std::function<int64_t()>;

    struct Deps {
        Metrics& metrics;
        Schedule schedule;
        TellOwner tellOwner;
        std::chrono::milliseconds transientGrace{60'000};
        std::string networkName = "the network";  // in the owner's notice, e.g. "IRC"
        WallClock now = {};                       // empty: the system clock
        Logger log{"remote_state"};
    };

    explicit RemoteStateTracker(Deps deps);
    // Cancels the grace timers (waiting for one that is running).
    ~RemoteStateTracker();
    RemoteStateTracker(const RemoteStateTracker&) = delete;
    RemoteStateTracker& operator=(const RemoteStateTracker&) = delete;

    // Any thread. A report of the state a subject is already in changes nothing but its
    // reason and code: no log line, no notice.
    void report(const StateSubject& subject, const RemoteStatus& status);

    // Every subject ever reported, ordered by network, owner, login.
    std::vector<RemoteStateEntry> snapshot() const;

private:
    using Key = std::tuple<std::string, std::string, std::string>;  // network, owner, login
    struct Tracked {
        StateSubject subject;
        RemoteStatus status;      // the latest report
        int64_t sinceMs = 0;
        RemoteState shown = RemoteState::Connecting;  // what the gauge and the log last said
        bool everShown = false;
        bool holding = false;     // a drop within the grace, not shown yet
        uint64_t holdSerial = 0;  // which hold a grace timer belongs to
        int64_t droppedAtMs = 0;
        TimerHandle grace;
    };
    // What to do once the lock is released: timers to cancel, a notice to send.
    struct AfterUnlock {
        std::vector<TimerHandle> cancelled;
        std::optional<std::pair<UserId, std::string>> notice;
    };

    void show(Tracked& t, bool afterGrace, AfterUnlock& after);
    void graceOver(const Key& key, uint64_t serial);
    void finish(AfterUnlock& after);
    Gauge& gauge(const std::string& network, RemoteState state);
    std::string noticeFor(const Tracked& t) const;
    int64_t nowMs() const;

    Deps deps_;
    mutable std::mutex mutex_;
    std::map<Key, Tracked> subjects_;
};

}  // namespace mxbridge::detail
