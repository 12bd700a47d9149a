#include "ops/remote_state_tracker.h"

#include <array>

namespace mxbridge::detail {

namespace {

constexpr std::array kAllStates = {RemoteState::Connecting,     RemoteState::Connected,
                                   RemoteState::TransientDisconnect, RemoteState::BadCredentials,
                                   RemoteState::Banned,         RemoteState::LoggedOut,
                                   RemoteState::Stopped};

// Not connected, and the bridge is on it without anyone's help.
bool isDrop(RemoteState state) {
    return state == RemoteState::TransientDisconnect || state == RemoteState::Connecting;
}

// One line per change, the same fields every time (empty where they do not apply), so log
// searches by network or owner find every line.
void logChange(const Logger& log, LogLevel level, std::string_view message, const StateSubject& subject,
               const RemoteStatus& status, std::string_view previous = {}, int64_t downForSeconds = -1) {
    if (!log.enabled(level)) return;
    log.log(level, message,
            {{"network", subject.network}, {"owner", subject.owner.str()}, {"login", subject.loginId},
             {"state", remoteStateName(status.state)}, {"previous", previous},
             {"reason", status.reason}, {"code", status.code},
             {"down_for_seconds", downForSeconds < 0 ? std::string() : std::to_string(downForSeconds)}});
}

}  // namespace

RemoteStateTracker::RemoteStateTracker(Deps deps) : deps_(std::move(deps)) {}

RemoteStateTracker::~RemoteStateTracker() {
    std::vector<TimerHandle> timers;
    {
        std::lock_guard lock(mutex_);
        for (auto& [key, tracked] : subjects_) timers.push_back(std::move(tracked.grace));
    }
    // Cancelled here, unlocked: a grace timer running now waits for the lock to finish.
    timers.clear();
}

void RemoteStateTracker::report(const StateSubject& subject, const RemoteStatus& status) {
    AfterUnlock after;
    {
        std::lock_guard lock(mutex_);
        Key key{subject.network, subject.owner.str(), subject.loginId};
        auto [it, added] = subjects_.try_emplace(key);
        Tracked& t = it->second;
        if (added) {
            t.subject = subject;
            // Every state of a new network at 0, so a dashboard sees the series before trouble.
            for (RemoteState state : kAllStates) gauge(subject.network, state);
        } else if (t.status.state == status.state) {
            t.status.reason = status.reason;
            t.status.code = status.code;
            return;
        }
        const int64_t now = nowMs();
        t.status = status;
        t.sinceMs = now;
        const bool droppedFromConnected = t.everShown && t.shown == RemoteState::Connected;
        if (isDrop(status.state) && deps_.transientGrace.count() > 0 && (t.holding || droppedFromConnected)) {
            if (!t.holding) {
                t.holding = true;
                t.droppedAtMs = now;
                const uint64_t serial = ++t.holdSerial;
                after.cancelled.push_back(std::move(t.grace));
                t.grace = deps_.schedule(deps_.transientGrace, [this, key, serial] { graceOver(key, serial); });
            }
            logChange(deps_.log, LogLevel::Debug, "remote connection down; quiet unless it outlasts the grace",
                      t.subject, t.status);
        } else {
            bool quiet = false;
            if (t.holding) {
                t.holding = false;
                after.cancelled.push_back(std::move(t.grace));
                quiet = status.state == t.shown;  // back before the grace ran out
                if (quiet)
                    logChange(deps_.log, LogLevel::Debug, "remote connection back within the grace", t.subject,
                              t.status);
            }
            if (!quiet) show(t, false, after);
        }
    }
    finish(after);
}

void RemoteStateTracker::graceOver(const Key& key, uint64_t serial) {
    AfterUnlock after;
    {
        std::lock_guard lock(mutex_);
        auto it = subjects_.find(key);
        if (it == subjects_.end()) return;
        Tracked& t = it->second;
        if (!t.holding || t.holdSerial != serial) return;  // back, or a newer drop: stale
        t.holding = false;
        after.cancelled.push_back(std::move(t.grace));  // its own handle: no wait, see TimerService
        show(t, true, after);
    }
    finish(after);
}

void RemoteStateTracker::show(Tracked& t, bool afterGrace, AfterUnlock& after) {
    const RemoteState next = t.status.state;
    const bool wasConnected = t.everShown && t.shown == RemoteState::Connected;
    const std::string_view previous = t.everShown ? remoteStateName(t.shown) : std::string_view();
    if (t.everShown) gauge(t.subject.network, t.shown).add(-1);
    gauge(t.subject.network, next).add(1);
    t.shown = next;
    t.everShown = true;

    if (wasConnected && isDrop(next))
        deps_.metrics
            .counter("mxbridge_remote_disconnects_total",
                     "Remote connections lost for longer than remote.transient_grace_seconds",
                     {{"network", t.subject.network}})
            .inc();
    if (afterGrace)
        logChange(deps_.log, LogLevel::Warn, "remote connection lost for longer than the grace", t.subject,
                  t.status, previous, (nowMs() - t.droppedAtMs) / 1000);
    else if (next == RemoteState::TransientDisconnect)
        logChange(deps_.log, LogLevel::Warn, "remote connection lost", t.subject, t.status, previous);
    else
        logChange(deps_.log, LogLevel::Info, "remote connection state changed", t.subject, t.status, previous);
    if (!t.subject.owner.empty() && needsUserAction(next) && deps_.tellOwner)
        after.notice.emplace(t.subject.owner, noticeFor(t));
}

void RemoteStateTracker::finish(AfterUnlock& after) {
    after.cancelled.clear();
    if (!after.notice) return;
    try {
        deps_.tellOwner(after.notice->first, after.notice->second);
    } catch (const std::exception& e) {
        deps_.log.warn("could not tell the owner of a login about its state",
                       {{"owner", after.notice->first.str()}, {"error", e.what()}});
    }
}

Gauge& RemoteStateTracker::gauge(const std::string& network, RemoteState state) {
    return deps_.metrics.gauge("mxbridge_remote_connections",
                               "Remote connections (the bridge's own and logins') by network and state",
                               {{"network", network}, {"state", std::string(remoteStateName(state))}});
}

std::string RemoteStateTracker::noticeFor(const Tracked& t) const {
    std::string which = "Your " + deps_.networkName + " login on " + t.subject.network;
    if (!t.subject.loginId.empty()) which += " (" + t.subject.loginId + ")";
    std::string what;
    std::string todo;
    switch (t.status.state) {
        case RemoteState::BadCredentials:
            what = " was refused by the network";
            todo = "Log in again to keep bridging.";
            break;
        case RemoteState::Banned:
            what = " is banned by the network";
            todo = "The bridge will not reconnect it until the ban is lifted and you log in again.";
            break;
        case RemoteState::LoggedOut:
            what = " was logged out";
            todo = "Log in again to keep bridging.";
            break;
        default:
            what = " is " + std::string(remoteStateName(t.status.state));
            break;
    }
    std::string text = "\u26A0 " + which + what;
    text += t.status.reason.empty() ? "." : ": " + t.status.reason + ".";
    if (!todo.empty()) text += " " + todo;
    return text;
}

std::vector<RemoteStateEntry> RemoteStateTracker::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<RemoteStateEntry> out;
    out.reserve(subjects_.size());
    for (const auto& [key, t] : subjects_)
        out.push_back(RemoteStateEntry{.subject = t.subject, .status = t.status, .sinceMs = t.sinceMs});
    return out;
}

int64_t RemoteStateTracker::nowMs() const {
    if (deps_.now) return deps_.now();
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace mxbridge::detail
