// RemoteStateTracker: what an operator and a login's owner see of the states a bridge reports.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "mxbridge/testing/manual_clock.h"
#include "ops/remote_state_tracker.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kEpochMs = 1'760'000'000'000;
const UserId kAlice("@alice:hs.test");
const StateSubject kRelayBot{.network = "libera", .owner = UserId(), .loginId = {}};
const StateSubject kAliceLogin{.network = "libera", .owner = kAlice, .loginId = "alice1"};

struct Rig {
    explicit Rig(std::chrono::milliseconds grace = 60s)
        : tracker({.metrics = metrics,
                   .schedule = [this](std::chrono::milliseconds delay, std::function<void()> task) {
                       return clock.after(delay, std::move(task));
                   },
                   .tellOwner = [this](const UserId& owner, const std::string& text) { told.emplace_back(owner, text); },
                   .transientGrace = grace,
                   .networkName = "IRC",
                   .now = [this] { return kEpochMs + clock.now().count(); }}) {}

    int64_t connections(const std::string& network, const std::string& state) {
        return metrics.gauge("mxbridge_remote_connections", "", {{"network", network}, {"state", state}}).value();
    }
    uint64_t disconnects(const std::string& network) {
        return metrics.counter("mxbridge_remote_disconnects_total", "", {{"network", network}}).value();
    }
    void report(const StateSubject& subject, RemoteState state, std::string reason = {}) {
        tracker.report(subject, {.state = state, .reason = std::move(reason), .code = {}});
    }
    // Connected, then dropped, and reconnecting `retryAfter` later, as a bridge reports it.
    void dropAndRetry(const StateSubject& subject, std::chrono::milliseconds retryAfter) {
        report(subject, RemoteState::Connected);
        report(subject, RemoteState::TransientDisconnect, "Connection reset by peer");
        clock.advance(retryAfter);
        report(subject, RemoteState::Connecting);
    }

    Metrics metrics;
    testing::ManualClock clock;
    std::vector<std::pair<UserId, std::string>> told;
    RemoteStateTracker tracker;  // last: its grace timers live in the clock
};

}  // namespace

TEST_CASE("the gauge counts each network's connections by state as they change") {
    Rig rig;
    rig.report(kRelayBot, RemoteState::Connecting);
    CHECK(rig.connections("libera", "connecting") == 1);
    rig.report(kRelayBot, RemoteState::Connected);
    rig.report(kAliceLogin, RemoteState::Connected);
    CHECK(rig.connections("libera", "connecting") == 0);
    CHECK(rig.connections("libera", "connected") == 2);
    rig.report({.network = "oftc", .owner = UserId(), .loginId = {}}, RemoteState::Stopped);
    CHECK(rig.connections("oftc", "stopped") == 1);
    CHECK(rig.connections("libera", "stopped") == 0);
    // Every state of a network is a series from its first report, so alerts see a 0 before trouble.
    std::string text = rig.metrics.renderPrometheus();
    CHECK(text.find("mxbridge_remote_connections{network=\"oftc\",state=\"banned\"} 0") != std::string::npos);
}

TEST_CASE("a drop that is back within the grace leaves the gauge, the counter and the owner alone") {
    Rig rig;
    rig.dropAndRetry(kAliceLogin, 10s);
    rig.clock.advance(20s);
    rig.report(kAliceLogin, RemoteState::Connected);
    CHECK(rig.connections("libera", "connected") == 1);
    CHECK(rig.connections("libera", "transient_disconnect") == 0);
    CHECK(rig.connections("libera", "connecting") == 0);
    rig.clock.advance(120s);  // the old grace timer, if any, changes nothing
    CHECK(rig.connections("libera", "connected") == 1);
    CHECK(rig.disconnects("libera") == 0);
    CHECK(rig.told.empty());
    CHECK(rig.clock.pending() == 0);
}

TEST_CASE("a drop that outlasts the grace moves the gauge and is counted once") {
    Rig rig;
    rig.dropAndRetry(kRelayBot, 30s);
    rig.clock.advance(29s);
    CHECK(rig.connections("libera", "connected") == 1);
    rig.clock.advance(2s);
    CHECK(rig.connections("libera", "connected") == 0);
    CHECK(rig.connections("libera", "connecting") == 1);  // where it is when the grace ran out
    CHECK(rig.disconnects("libera") == 1);
    rig.report(kRelayBot, RemoteState::TransientDisconnect);
    rig.report(kRelayBot, RemoteState::Connecting);
    CHECK(rig.connections("libera", "connecting") == 1);
    CHECK(rig.disconnects("libera") == 1);  // still the same outage
    rig.report(kRelayBot, RemoteState::Connected);
    CHECK(rig.connections("libera", "connected") == 1);
    CHECK(rig.connections("libera", "connecting") == 0);
}

TEST_CASE("with no grace every drop counts at once") {
    Rig rig(0ms);
    rig.report(kRelayBot, RemoteState::Connected);
    rig.report(kRelayBot, RemoteState::TransientDisconnect);
    CHECK(rig.connections("libera", "transient_disconnect") == 1);
    CHECK(rig.disconnects("libera") == 1);
    CHECK(rig.clock.pending() == 0);
}

TEST_CASE("the state list shows each subject's latest report at once, with when that state began") {
    Rig rig;
    rig.report(kRelayBot, RemoteState::Connected);
    rig.clock.advance(5s);
    rig.report(kRelayBot, RemoteState::TransientDisconnect, "Ping timeout");
    rig.clock.advance(1s);
    rig.report(kRelayBot, RemoteState::TransientDisconnect, "Ping timeout (120 s)");  // a repeat
    rig.report(kAliceLogin, RemoteState::Connecting);
    std::vector<RemoteStateEntry> states = rig.tracker.snapshot();
    REQUIRE(states.size() == 2);
    const RemoteStateEntry& bot = states[0].subject.owner.empty() ? states[0] : states[1];
    const RemoteStateEntry& login = states[0].subject.owner.empty() ? states[1] : states[0];
    CHECK(bot.status.state == RemoteState::TransientDisconnect);  // within the grace, but the truth
    CHECK(bot.status.reason == "Ping timeout (120 s)");
    CHECK(bot.sinceMs == kEpochMs + 5'000);
    CHECK(login.subject.loginId == "alice1");
    CHECK(login.sinceMs == kEpochMs + 6'000);
}

TEST_CASE("a login that needs its owner is told once per change, not per repeated report") {
    Rig rig;
    rig.report(kAliceLogin, RemoteState::Connected);
    rig.report(kAliceLogin, RemoteState::BadCredentials, "SASL authentication failed");
    REQUIRE(rig.told.size() == 1);
    CHECK(rig.told[0].first == kAlice);
    CHECK(rig.told[0].second ==
          "\u26A0 Your IRC login on libera (alice1) was refused by the network: SASL authentication failed. "
          "Log in again to keep bridging.");
    rig.report(kAliceLogin, RemoteState::BadCredentials, "SASL authentication failed");
    rig.report(kAliceLogin, RemoteState::BadCredentials, "SASL authentication failed again");
    CHECK(rig.told.size() == 1);
    rig.report(kAliceLogin, RemoteState::Connecting);
    rig.report(kAliceLogin, RemoteState::Connected);
    rig.report(kAliceLogin, RemoteState::Banned, "K-lined");
    REQUIRE(rig.told.size() == 2);
    CHECK(rig.told[1].second.find("is banned by the network: K-lined.") != std::string::npos);
    CHECK(rig.connections("libera", "banned") == 1);
}

TEST_CASE("the bridge's own connections tell nobody, and a login needing action mid-drop is told at once") {
    Rig rig;
    rig.report(kRelayBot, RemoteState::Banned, "K-lined");
    CHECK(rig.told.empty());
    rig.report(kAliceLogin, RemoteState::Connected);
    rig.report(kAliceLogin, RemoteState::TransientDisconnect);
    rig.report(kAliceLogin, RemoteState::LoggedOut, "token revoked");
    REQUIRE(rig.told.size() == 1);
    CHECK(rig.told[0].second.find("was logged out: token revoked.") != std::string::npos);
    CHECK(rig.connections("libera", "logged_out") == 1);
    rig.clock.advance(61s);  // the drop's grace timer is stale now
    CHECK(rig.connections("libera", "logged_out") == 1);
    CHECK(rig.disconnects("libera") == 0);
    CHECK(rig.told.size() == 1);
}
