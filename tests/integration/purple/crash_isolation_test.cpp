// A plugin that crashes or hangs takes down its host, never the bridge nor other hosts: with
// the test-only protocol plugin prpl-mxbridge-crashtest (crash_plugin/), an IM holding
// "segfault" kills the host with SIGSEGV and one holding "hang" stops its loop. Each time
// the bridge logs what happened, starts a new host, logs the account in again, tells the
// sender their message did not go through, does not send it again, and IMs flow afterwards;
// another user's account, on a host of its own (accounts_per_host: 1), never notices.
#include <doctest/doctest.h>

#include "purple_env.h"
#include "spec_dir.h"

using namespace mxbridge::test;

TEST_CASE("a host that segfaults or hangs on a message is replaced, the other host carries on; the message is not retried and its sender is told") {
    MXBRIDGE_REQUIRE_SPEC();
    PurpleBridgeEnv env("  plugin_dirs: [" + std::string(MXBRIDGE_CRASHTEST_PLUGIN_DIR) + "]\n" +
                        "  accounts_per_host: 1\n");
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));
    env.openDm(kDave);

    CHECK(env.say("!protocols").find("mxbridge-crashtest: Crash test (prpl-mxbridge-crashtest)") != std::string::npos);
    // Carol's account, then dave's: one host each.
    auto loginAndGreet = [&](const std::string& user, const std::string& name) {
        std::string done = env.login("mxbridge-crashtest", [&](const std::string&) { return name; }, nullptr, user);
        REQUIRE(done.find("Logged in to mxbridge-crashtest as " + name) != std::string::npos);
        REQUIRE(env.waitConnected("mxbridge-crashtest", 20s, user));
        // The plugin's buddy greets the account: a DM with its ghost.
        std::string room;
        REQUIRE(hs.waitFor([&] { return !(room = env.directRoom(user)).empty(); }, 20s));
        REQUIRE(hs.waitFor([&] { return env.roomHas(room, "hello, I am the crash test buddy"); }, 20s));
        hs.forceJoin(room, user);
        hs.sendAsUser(room, user, {{"msgtype", "m.text"}, {"body", "hi from " + name}});
        REQUIRE(hs.waitFor([&] { return env.roomHas(room, "echo: hi from " + name); }, 20s));
        return room;
    };
    std::string room = loginAndGreet(kCarol, "carol");
    std::string daveRoom = loginAndGreet(kDave, "dave");
    long davesHost = env.hostPid(1);
    REQUIRE(davesHost > 0);
    REQUIRE(env.hostPid(0) != davesHost);

    // Carol's order takes her host down (`howLost`, as the bridge logs it); dave's host carries on,
    // carol is told her message did not go through, a new host brings her account back, and the
    // message that took the host down is not sent again: one host lost, no more.
    auto loseHostAndComeBack = [&](const std::string& order, const std::string& howLost, const std::string& after) {
        long pid = env.hostPid(0);
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", order}});
        env.bridge().waitForLine("purple host lost; starting another host=0 .*" + howLost, 20s);
        hs.sendAsUser(daveRoom, kDave, {{"msgtype", "m.text"}, {"body", "dave, still here"}});
        CHECK(hs.waitFor([&] { return env.roomHas(daveRoom, "echo: dave, still here"); }, 10s));
        CHECK(hs.waitFor([&] { return !env.noticesWith(room, "libpurple did not take it").empty(); }, 15s));
        REQUIRE(hs.waitFor([&] { long now = env.hostPid(0); return now > 0 && now != pid; }, 20s));
        REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", after}});
        REQUIRE(hs.waitFor([&] { return env.roomHas(room, "echo: " + after); }, 20s));
        std::this_thread::sleep_for(3s);
        CHECK(env.logCount("purple host lost") == 1);
    };
    SUBCASE("segfault") { loseHostAndComeBack("please segfault now", "killed by signal 11", "after the crash"); }
    SUBCASE("hang") { loseHostAndComeBack("please hang now", "stopped answering pings", "back after the freeze"); }

    // Dave's host was never replaced.
    CHECK(env.hostPid(1) == davesHost);
    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}

TEST_CASE("an account whose IMs keep crashing hosts is moved to a host of its own, then disabled with a notice") {
    MXBRIDGE_REQUIRE_SPEC();
    PurpleBridgeEnv env("  plugin_dirs: [" + std::string(MXBRIDGE_CRASHTEST_PLUGIN_DIR) + "]\n");
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));
    env.openDm(kDave);
    auto loginAndGreet = [&](const std::string& user, const std::string& name) {
        std::string done = env.login("mxbridge-crashtest", [&](const std::string&) { return name; }, nullptr, user);
        REQUIRE(done.find("Logged in to mxbridge-crashtest as " + name) != std::string::npos);
        REQUIRE(env.waitConnected("mxbridge-crashtest", 20s, user));
        std::string room;
        REQUIRE(hs.waitFor([&] { return !(room = env.directRoom(user)).empty(); }, 20s));
        hs.forceJoin(room, user);
        return room;
    };
    // Both on host 0 (accounts_per_host defaults to 50).
    std::string room = loginAndGreet(kCarol, "carol");
    std::string daveRoom = loginAndGreet(kDave, "dave");
    CHECK(env.hostPid(1) == 0);

    auto crashOnce = [&](int n) {
        std::size_t lost = env.logCount("purple host lost");
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "segfault number " + std::to_string(n)}});
        REQUIRE(hs.waitFor([&] { return env.logCount("purple host lost") > lost; }, 15s));
    };
    // Twice on the shared host: carol's account moves to a host of its own.
    crashOnce(1);
    REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));
    crashOnce(2);
    env.bridge().waitForLine("purple account moved to a host of its own.*host=1", 15s);
    REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));
    REQUIRE(env.waitConnected("mxbridge-crashtest", 20s, kDave));
    long davesHost = env.hostPid(0);
    REQUIRE(davesHost > 0);
    REQUIRE(hs.waitFor([&] { return env.hostPid(1) > 0; }, 20s));
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "on my own now"}});
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "echo: on my own now"); }, 20s));

    // From now on her crashes are her host's alone: dave's host stays.
    crashOnce(3);
    env.bridge().waitForLine("purple host lost; starting another host=1 ", 15s);
    REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));
    crashOnce(4);
    // Disabled: carol is told why and how to try again; dave is untouched.
    CHECK(hs.waitFor([&] { return !env.noticesWith(env.dmOf(kCarol), "crashed its libpurple host 4 times").empty(); },
                     15s));
    CHECK(env.say("!status").find("mxbridge-crashtest: connected") == std::string::npos);
    CHECK(env.hostPid(0) == davesHost);
    hs.sendAsUser(daveRoom, kDave, {{"msgtype", "m.text"}, {"body", "dave was never touched"}});
    CHECK(hs.waitFor([&] { return env.roomHas(daveRoom, "echo: dave was never touched"); }, 20s));
    CHECK(env.logCount("purple account disabled") == 1);
    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}
