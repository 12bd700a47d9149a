// The homeserver checks at start: versions (waited for, too-old refused), whoami with the
// as_token, the appservice ping where the homeserver has it. Each failure has its own exit
// code (framework/include/mxbridge/app.h) and says what to fix.
#include <doctest/doctest.h>

#include "bridge_process.h"
#include "ports.h"
#include "test_checks.h"

namespace mxbridge::test {

namespace {

// Starts the bridge, expects it to exit with `code` and output matching every one of `words`.
void expectStartupFailure(BridgeProcess& bridge, int code, const std::vector<std::string>& words) {
    bridge.start();
    auto exit = bridge.waitExit(20s);
    std::string out = bridge.output();
    INFO("output:\n" << out);
    CHECK(exit == code);
    for (const auto& w : words) {
        INFO("wanted in the output: " << w);
        CHECK(out.find(w) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("a homeserver that starts after the bridge is waited for, then the bridge runs") {
    std::uint16_t hsPort = freePort();
    BridgeSettings settings;
    settings.homeserverUrl = "http://127.0.0.1:" + std::to_string(hsPort);
    settings.startupTimeoutSeconds = 30;
    BridgeProcess bridge(settings);
    bridge.start();
    bridge.process().waitForLine("waiting for the homeserver", 10s);
    HomeserverConfig c = bridgeHomeserverConfig(bridge.port());
    c.port = hsPort;
    HomeserverDouble hs(c);
    bridge.waitRunning(15s);
    AsClient client(bridge.port());
    CHECK(client.get("/health").status == 200);
    CHECK(bridge.stop() == 0);
    checkNoSpecViolations(hs);
}

TEST_CASE("no homeserver within homeserver.startup_timeout_seconds exits 10 naming homeserver.url") {
    BridgeSettings settings;
    settings.homeserverUrl = "http://127.0.0.1:" + std::to_string(freePort());
    settings.startupTimeoutSeconds = 1;
    BridgeProcess bridge(settings);
    expectStartupFailure(bridge, 10, {"did not answer", "homeserver.url"});
}

TEST_CASE("a homeserver supporting only r0.6.1 is refused with exit 11") {
    BridgedHomeserver env([](HomeserverConfig& c) { c.versions = {"r0.6.1"}; });
    expectStartupFailure(*env.bridge, 11, {"r0.6.1", "upgrade the homeserver"});
    checkNoSpecViolations(*env.hs);
}

// Synapse up to 1.67: nothing from v1.4 on, so the hs_token comes only as ?access_token=.
TEST_CASE("a homeserver listing no spec version from v1.4 on exits 11 naming appservice.allow_query_token while query tokens are refused, and runs once they are allowed") {
    BridgedHomeserver env([](HomeserverConfig& c) {
        c.versions = {"r0.6.1", "v1.1", "v1.2", "v1.3"};
        c.legacyPaths = true;
    });
    expectStartupFailure(*env.bridge, 11, {"v1.4", "?access_token=", "appservice.allow_query_token: true"});
    CHECK(env.bridge->output().find("bridge is running") == std::string::npos);

    env.bridge->settings().allowQueryToken = true;
    env.bridge->startRunning();
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("an as_token the homeserver does not know exits 12 naming app_service_config_files") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.asToken = "as_token_not_registered"; });
    expectStartupFailure(*env.bridge, 12, {"as_token", "app_service_config_files"});
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a homeserver that cannot reach the bridge fails the ping with exit 13 naming appservice.public_url") {
    std::uint16_t closed = freePort();
    BridgedHomeserver env([closed](HomeserverConfig& c) { c.appserviceUrl = "http://127.0.0.1:" + std::to_string(closed); });
    expectStartupFailure(*env.bridge, 13, {"ping", "appservice.public_url"});
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a homeserver holding a different hs_token fails the ping with exit 13 naming the hs_token") {
    BridgedHomeserver env([](HomeserverConfig& c) { c.hsToken = "hs_token_of_another_registration"; });
    expectStartupFailure(*env.bridge, 13, {"ping", "hs_token"});
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a homeserver older than the appservice ping (up to v1.6) is accepted with a warning") {
    BridgedHomeserver env([](HomeserverConfig& c) {
        c.versions = {"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"};
    });
    env.bridge->startRunning();
    CHECK(env.bridge->output().find("predates the appservice ping") != std::string::npos);
    for (const auto& r : env.hs->requests()) CHECK(r.operationId != "pingAppservice");
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test
