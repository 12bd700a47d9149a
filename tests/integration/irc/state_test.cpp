// What a monitor sees of the IRC bridge's own connections: the relay bot of each network
// reports its state, so GET /_mxbridge/v1/state (provisioning's listener and secret) lists it.
#include <doctest/doctest.h>

#include <thread>

#include "irc_bridge_fixture.h"
// After the fixture: its homeserver double's HttpResponse comes first (see http_client.h).
#include "http_client.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

// The bot's entry for network "test" once it is in `state` (null when it is not within 20 s);
// the endpoint's last answer goes to the test's output either way.
json botStateOnceIn(IrcBridgeFixture& f, const std::string& state) {
    std::string last;
    for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(100ms)) {
        harness_http::HttpClient monitor(f.bridgePort(), false);
        harness_http::HttpResponse r = monitor.get("/_mxbridge/v1/state",
                                                   {{"Authorization", std::string("Bearer ") + kProvisioningSecret}});
        last = std::to_string(r.status) + " " + r.body;
        if (r.status != 200) continue;
        const json body = json::parse(r.body);
        for (const auto& c : body["connections"])
            if (c.value("network", "") == "test" && c.value("state", "") == state) return c;
    }
    MESSAGE("the state endpoint last said: " << last);
    return nullptr;
}

}  // namespace

TEST_CASE("the relay bot's connection is listed as connected in /_mxbridge/v1/state, and as transient while the ircd is away") {
    IrcBridgeOptions options;
    options.provisioning = true;
    IrcBridgeFixture f(options);
    f.startBridge();
    json connected = botStateOnceIn(f, "connected");
    REQUIRE_MESSAGE(!connected.is_null(), f.bridge().lastLines(40));
    CHECK(connected.value("since", 0LL) > 0);

    f.ircd().stop();
    json dropped = botStateOnceIn(f, "transient_disconnect");
    CHECK_MESSAGE(!dropped.is_null(), f.bridge().lastLines(40));
    f.ircd().start();
    CHECK_MESSAGE(!botStateOnceIn(f, "connected").is_null(), f.bridge().lastLines(40));
}

TEST_CASE("a relay bot whose SASL login the ircd cannot take is listed as bad_credentials, with the reason") {
    IrcBridgeOptions options;
    options.provisioning = true;
    // The test ircd runs no services, so it offers no SASL: the bot's login cannot be made.
    options.extraNetworkLines = {"bot_sasl_password: not-a-real-password"};
    IrcBridgeFixture f(options);
    f.startBridge();
    json refused = botStateOnceIn(f, "bad_credentials");
    REQUIRE_MESSAGE(!refused.is_null(), f.bridge().lastLines(40));
    CHECK_MESSAGE(refused.value("reason", "").find("SASL") != std::string::npos, refused.dump());
    CHECK_MESSAGE(refused.dump().find("not-a-real-password") == std::string::npos, refused.dump());
}
