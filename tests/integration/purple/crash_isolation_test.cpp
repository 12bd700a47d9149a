// A plugin that crashes or hangs takes down its host, never the bridge: with the test-only
// protocol plugin prpl-mxbridge-crashtest (crash_plugin/), an IM holding "segfault" kills
// the host with SIGSEGV and one holding "hang" stops its loop. Each time the bridge logs
// what happened, starts a new host, logs the account in again, tells the sender their
// message did not go through, does not send it again, and IMs flow afterwards.
#include <doctest/doctest.h>

#include "purple_env.h"
#include "spec_dir.h"

using namespace mxbridge::test;

TEST_CASE("a host that segfaults or hangs on a message is replaced; the message is not retried and its sender is told") {
    MXBRIDGE_REQUIRE_SPEC();
    PurpleBridgeEnv env("  plugin_dirs: [" + std::string(MXBRIDGE_CRASHTEST_PLUGIN_DIR) + "]\n");
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));

    CHECK(env.say("!protocols").find("mxbridge-crashtest: Crash test (prpl-mxbridge-crashtest)") != std::string::npos);
    std::string done = env.login("mxbridge-crashtest", [](const std::string&) { return std::string("carol"); });
    REQUIRE(done.find("Logged in to mxbridge-crashtest as carol") != std::string::npos);
    REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));

    // The plugin's buddy greets the account: a DM with its ghost.
    const std::string greeting = "hello, I am the crash test buddy";
    std::string room;
    REQUIRE(hs.waitFor([&] { return !(room = env.directRoom()).empty(); }, 20s));
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, greeting); }, 20s));
    hs.forceJoin(room, kCarol);
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "hi"}});
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "echo: hi"); }, 20s));

    SUBCASE("segfault") {
        long pid = env.hostPid();
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "please segfault now"}});
        env.bridge().waitForLine("purple host lost.*killed by signal 11", 15s);
        // Carol is told her message did not go through.
        CHECK(hs.waitFor([&] { return !env.noticesWith(room, "libpurple did not take it").empty(); }, 15s));
        REQUIRE(hs.waitFor([&] { long now = env.hostPid(); return now > 0 && now != pid; }, 20s));
        REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "after the crash"}});
        REQUIRE(hs.waitFor([&] { return env.roomHas(room, "echo: after the crash"); }, 20s));
        // The message that crashed the host was not sent again: one host lost, no more.
        std::this_thread::sleep_for(3s);
        CHECK(env.logCount("purple host lost") == 1);
    }

    SUBCASE("hang") {
        long pid = env.hostPid();
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "please hang now"}});
        env.bridge().waitForLine("purple host lost.*stopped answering pings", 20s);
        CHECK(hs.waitFor([&] { return !env.noticesWith(room, "libpurple did not take it").empty(); }, 15s));
        REQUIRE(hs.waitFor([&] { long now = env.hostPid(); return now > 0 && now != pid; }, 20s));
        REQUIRE(env.waitConnected("mxbridge-crashtest", 20s));
        hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "back after the freeze"}});
        REQUIRE(hs.waitFor([&] { return env.roomHas(room, "echo: back after the freeze"); }, 20s));
        std::this_thread::sleep_for(3s);
        CHECK(env.logCount("purple host lost") == 1);
    }

    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}
