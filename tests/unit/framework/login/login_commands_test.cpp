// Logins in the DM with the bridge bot, as the user sees them: the questions, the answers'
// fate (a password is redacted at once and shows up nowhere), time-outs, !status and the rest.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "login_rig.h"
#include "temp_dir.h"

using namespace mxbridge;
using namespace mxbridge::test;
using namespace std::chrono_literals;

namespace {

// Everything written to stderr (where log lines go) while alive, at every log level.
class StderrCapture {
public:
    StderrCapture() : path_((dir_ / "stderr.log").string()) {
        std::fflush(stderr);
        saved_ = ::dup(2);
        int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 2);
        ::close(fd);
        // A component with no level of its own reads the default: what to put back after.
        previousLevel_ = LogConfig::levelFor("stderr-capture");
        LogConfig::setDefaultLevel(LogLevel::Trace);
    }
    ~StderrCapture() { restore(); }
    std::string text() {
        restore();
        std::ifstream in(path_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    void restore() {
        if (saved_ < 0) return;
        LogConfig::setDefaultLevel(previousLevel_);
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    test::TempDir dir_{"mxbridge-login"};
    std::string path_;
    int saved_ = -1;
    LogLevel previousLevel_ = LogLevel::Info;
};

bool contains(const std::vector<std::string>& texts, const std::string& needle) {
    for (const auto& t : texts)
        if (t.find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("a password typed during !login is redacted at once and appears in no reply, log line or metric") {
    StderrCapture captured;
    std::string logText;
    {
        LoginRig rig;
        rig.type("!login probe");
        REQUIRE(rig.waitForNotices(1));
        CHECK(rig.lastNotice().find("Your Probe user name") != std::string::npos);
        rig.type("alice", "$name");
        CHECK(rig.lastNotice().find("Your Probe password") != std::string::npos);
        CHECK(rig.lastNotice().find("deleted from this chat") != std::string::npos);
        rig.type(kRightPassword, "$password");

        // The bot asked to redact exactly that event, before it said anything more.
        auto actions = rig.intentLog.all();
        auto redaction = std::find_if(actions.begin(), actions.end(), [](const auto& a) { return a.op == "redact"; });
        REQUIRE(redaction != actions.end());
        CHECK(redaction->target == "$password");
        CHECK(redaction->room == kAliceDm);
        CHECK(rig.intentLog.ofOp("redact").size() == 1);  // the user name stays

        REQUIRE(rig.waitForNotices(3));
        CHECK(rig.lastNotice().find("Logged in to probe as alice") != std::string::npos);
        REQUIRE(rig.store.find(LoginKey{kAlice, "probe", ""}));
        CHECK(rig.store.find(LoginKey{kAlice, "probe", ""})->secret.reveal() == kRightPassword);
        CHECK(rig.handler.state->passwordsSeen == std::vector<std::string>{kRightPassword});

        for (const auto& notice : rig.notices()) CHECK(notice.find(kRightPassword) == std::string::npos);
        CHECK(rig.metrics.renderPrometheus().find(kRightPassword) == std::string::npos);
        CHECK(rig.metrics.renderPrometheus().find("mxbridge_logins_total{outcome=\"completed\"} 1") != std::string::npos);
        rig.type("!status");
        CHECK(rig.lastNotice().find(kRightPassword) == std::string::npos);
    }
    logText = captured.text();
    CHECK(logText.find("login completed") != std::string::npos);  // the capture did see the logins' lines
    CHECK(logText.find(kRightPassword) == std::string::npos);
}

TEST_CASE("a wrong password ends the login with the network's reason, and nothing is stored") {
    LoginRig rig;
    rig.type("!login");  // the first network, probe
    REQUIRE(rig.waitForNotices(1));
    rig.type("alice", "$name");
    rig.type("letmein", "$password");
    REQUIRE(rig.waitForNotices(3));
    CHECK(rig.lastNotice() == "Login failed: Probe refused the user name or password.");
    CHECK(rig.intentLog.ofOp("redact").at(0).target == "$password");
    CHECK_FALSE(rig.store.find(LoginKey{kAlice, "probe", ""}));
    CHECK_FALSE(contains(rig.notices(), "letmein"));
    // The login is over: another message is not taken as an answer.
    rig.type("letmein-again", "$later");
    CHECK(rig.intentLog.ofOp("redact").size() == 1);
}

TEST_CASE("a secret the homeserver would not let the bot delete is told to its owner, with what to do; other refusals are not") {
    LoginRig rig;
    rig.type("!login");
    REQUIRE(rig.waitForNotices(1));
    rig.type("alice", "$name");
    rig.type(kRightPassword, "$password");
    REQUIRE(rig.waitForNotices(3));
    size_t before = rig.notices().size();
    // Some other redaction of the bot's was refused: nothing to tell about a secret.
    rig.commands.onRedactionRefused(kAliceDm, EventId("$name"), "You don't have permission to redact events");
    CHECK(rig.notices().size() == before);
    // The password's redaction was refused (a DM Alice made gives the bot power 0).
    rig.commands.onRedactionRefused(kAliceDm, EventId("$password"), "You don't have permission to redact events");
    REQUIRE(rig.notices().size() == before + 1);
    CHECK(rig.lastNotice().find("could not delete your message holding a secret") != std::string::npos);
    CHECK(rig.lastNotice().find("Please delete it yourself") != std::string::npos);
    CHECK(rig.lastNotice().find(kRightPassword) == std::string::npos);
    // Told once, however often the refusal is reported.
    rig.commands.onRedactionRefused(kAliceDm, EventId("$password"), "again");
    CHECK(rig.notices().size() == before + 1);
}

TEST_CASE("a question not answered in time ends the login with a message saying so") {
    LoginRig rig;
    rig.type("!login probe");
    REQUIRE(rig.waitForNotices(1));
    REQUIRE(LoginRig::eventually([&] { return rig.sessions.pending(kAlice).has_value(); }));
    rig.clock.advance(121s);
    CHECK(rig.lastNotice() ==
          "Your login to probe timed out after 120 seconds; nothing was stored. Send !login probe to start again.");
    size_t said = rig.notices().size();
    rig.type("alice", "$late");  // no longer an answer, and not a command: nothing happens
    CHECK(rig.notices().size() == said);
    CHECK(rig.metrics.renderPrometheus().find("mxbridge_logins_total{outcome=\"timed_out\"} 1") != std::string::npos);
}

TEST_CASE("a step the bridge does not finish in time is cancelled, and its late success is not stored") {
    LoginRig rig;
    rig.type("!login probe");
    REQUIRE(rig.waitForNotices(1));
    rig.type("alice", "$name");
    rig.handler.state->hang = true;  // the network does not answer
    rig.type(kRightPassword, "$password");
    // The worker is inside submit(); the watchdog fires after the step time-out.
    REQUIRE(LoginRig::eventually([&] { return rig.clock.pending() >= 1 && !rig.sessions.pending(kAlice); }));
    rig.clock.advance(121s);
    CHECK(rig.lastNotice() ==
          "Your login to probe timed out after 120 seconds; nothing was stored. Send !login probe to start again.");
    // cancel() let the process go, and what it returned was dropped.
    REQUIRE(LoginRig::eventually([&] { return rig.handler.state->passwordsSeen.size() == 1; }));
    rig.commands.stop();
    CHECK(rig.handler.state->cancels >= 1);
    CHECK_FALSE(rig.store.find(LoginKey{kAlice, "probe", ""}));
    CHECK_FALSE(contains(rig.notices(), "Logged in"));
}

TEST_CASE("!cancel while a question waits ends the login; the next message is not an answer") {
    LoginRig rig;
    rig.type("!login probe");
    REQUIRE(rig.waitForNotices(1));
    rig.type("alice", "$name");
    rig.type("!cancel", "$cancel");
    CHECK(rig.lastNotice() == "Login cancelled; nothing was stored.");
    // The answer to a secret question is redacted even when it is "!cancel": it could be one.
    CHECK(rig.intentLog.ofOp("redact").at(0).target == "$cancel");
    rig.type("!cancel");
    CHECK(rig.lastNotice() == "You have no login in progress.");
}

TEST_CASE("a link-and-wait login shows the link and completes once the user approved") {
    LoginRig rig;
    rig.type("!login probe code");
    REQUIRE(rig.waitForNotices(2));
    CHECK(rig.notices().at(0) == "Open this link and approve the bridge:\nhttps://probe.test/approve?c=42");
    CHECK(rig.notices().at(1).find("Logged in to probe as approved-user") != std::string::npos);
}

TEST_CASE("!status shows each login's state from the remote states, and what to do when it needs the user") {
    LoginRig rig;
    rig.type("!status");
    CHECK(rig.lastNotice() == "You have no logins. Send !login to log in to probe, other.");

    rig.clients.loggedIn([] {
        Login l;
        l.user = kAlice;
        l.network = "probe";
        l.remoteName = "alice";
        return l;
    }());
    RemoteClientHandle handle = rig.handler.lastHandle();
    handle.report({.state = RemoteState::Connected, .reason = {}, .code = {}});
    rig.type("!status");
    CHECK(rig.lastNotice() == "Your logins:\n- probe: connected since 2025-12-07 18:00 UTC");

    handle.report({.state = RemoteState::BadCredentials, .reason = "password refused", .code = {}});
    rig.type("!status");
    CHECK(rig.lastNotice() == "Your logins:\n- probe: bad_credentials since 2025-12-07 18:00 UTC (password refused); "
                              "send !login probe to log in again");
}

TEST_CASE("!logout forgets the login and closes its connection; !reconnect makes a new one") {
    LoginRig rig;
    Login l;
    l.user = kAlice;
    l.network = "probe";
    l.remoteName = "alice";
    rig.clients.loggedIn(l);
    RemoteClientHandle first = rig.handler.lastHandle();
    rig.type("!reconnect");
    CHECK(rig.lastNotice() == "Reconnecting to probe.");
    CHECK_FALSE(first.isCurrent());
    CHECK(rig.handler.lastHandle().isCurrent());

    rig.type("!logout");
    CHECK(rig.lastNotice() == "Logged out of probe: your login is forgotten and the connection closed.");
    CHECK_FALSE(rig.store.find(LoginKey{kAlice, "probe", ""}));
    CHECK_FALSE(rig.handler.lastHandle().isCurrent());
    rig.type("!logout");
    CHECK(rig.lastNotice() == "You have no login or connection here.");
}

TEST_CASE("on a bridge without logins, !login says so and the other login commands are not offered") {
    LoginRig rig(false);
    rig.type("!login");
    CHECK(rig.lastNotice() ==
          "The Probe bridge has no logins: you cannot log in to it with an account of your own.");
    rig.type("!help");
    CHECK(rig.lastNotice().find("!login") != std::string::npos);
    CHECK(rig.lastNotice().find("!logout") == std::string::npos);
    CHECK(rig.lastNotice().find("!status") == std::string::npos);
}

TEST_CASE("!login names the networks there are when asked for another") {
    LoginRig rig;
    rig.type("!login nowhere");
    REQUIRE(rig.waitForNotices(1));
    CHECK(rig.lastNotice() == "Login failed: There is no network \"nowhere\" to log in to. You can log in to: probe, other.");
}
