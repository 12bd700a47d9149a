// GET /_mxbridge/v1/state: the connections the bridge reported (here the probe's), for monitors.
// The provisioning secret guards it; a login's owner hears of trouble in their DM with the bot.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "bridge_process.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

constexpr const char* kStatePath = "/_mxbridge/v1/state";
constexpr const char* kSecret = "provisioning-secret-for-tests";
constexpr const char* kAlice = "@alice:hs.test";

int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The room of the bot's direct chat with `user`, once the bridge created it.
std::optional<std::string> directChatWith(const HomeserverDouble& hs, const std::string& user) {
    for (const RecordedRequest& r : hs.requests()) {
        if (r.operationId != "createRoom" || !r.body.is_object() || !r.body.value("is_direct", false)) continue;
        json invite = r.body.value("invite", json::array());
        if (std::find(invite.begin(), invite.end(), json(user)) == invite.end()) continue;
        if (r.response.is_object() && r.response.contains("room_id")) return r.response["room_id"].get<std::string>();
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("the state endpoint lists the bridge's own connections and each login's state, behind the provisioning secret") {
    BridgedHomeserver env({}, [](BridgeSettings& s) {
        s.provisioningSecret = kSecret;
        s.probeOptions = {"report_states: true"};
    });
    env.hs->addUser(kAlice);
    const int64_t startedMs = nowMs();
    env.bridge->startRunning();
    AsClient client(env.bridge->port());

    AsResponse missing = client.get(kStatePath);
    CHECK(missing.status == 401);
    CHECK(errcodeOf(missing) == "M_MISSING_TOKEN");
    AsResponse wrong = client.get(kStatePath, bearer("not-the-provisioning-secret"));
    CHECK(wrong.status == 403);
    CHECK(errcodeOf(wrong) == "M_FORBIDDEN");
    CHECK(client.get(kStatePath, bearer()).status == 403);  // the hs_token is not the secret

    AsResponse ok = client.get(kStatePath, bearer(kSecret));
    INFO(ok.body);
    REQUIRE(ok.status == 200);
    json body = json::parse(ok.body);
    REQUIRE(body["connections"].size() == 1);
    const json& own = body["connections"][0];
    CHECK(own["network"] == "probe-net");
    CHECK(own["state"] == "connected");
    CHECK(own["since"].get<int64_t>() >= startedMs - 1'000);
    CHECK(own["since"].get<int64_t>() <= nowMs());
    REQUIRE(body["logins"].size() == 1);
    const json& login = body["logins"][0];
    CHECK(login["network"] == "probe-net");
    CHECK(login["owner"] == kAlice);
    CHECK(login["login_id"] == "alice-1");
    CHECK(login["state"] == "bad_credentials");
    CHECK(login["reason"] == "password refused");
    CHECK(login["code"] == "bad_password");

    // Alice must log in again: the bot tells her once, in a direct chat it opens with her.
    std::optional<std::string> dm;
    CHECK(eventually([&] { return (dm = directChatWith(*env.hs, kAlice)) && !noticesIn(*env.hs, *dm).empty(); }, 10s));
    REQUIRE(dm);
    std::vector<std::string> notices = noticesIn(*env.hs, *dm);
    REQUIRE(notices.size() == 1);
    CHECK(notices[0].find("was refused by the network: password refused") != std::string::npos);
    CHECK(env.hs->members(*dm)[kAlice] == "invite");

    std::string log = env.bridge->output();
    CHECK(log.find("remote connection state changed") != std::string::npos);
    CHECK(log.find("bad_credentials") != std::string::npos);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("the state endpoint takes only GET, and without provisioning it refuses everyone") {
    {
        BridgedHomeserver env({}, [](BridgeSettings& s) { s.provisioningSecret = kSecret; });
        env.bridge->startRunning();
        AsClient client(env.bridge->port());
        CHECK(client.put(kStatePath, "{}", bearer(kSecret)).status == 405);
        AsResponse empty = client.get(kStatePath, bearer(kSecret));
        REQUIRE(empty.status == 200);
        CHECK(json::parse(empty.body) == json{{"connections", json::array()}, {"logins", json::array()}});
        CHECK(env.bridge->stop() == 0);
    }
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    AsResponse refused = client.get(kStatePath, bearer(kSecret));
    CHECK(refused.status == 403);
    CHECK(errcodeOf(refused) == "M_FORBIDDEN");
    CHECK(env.bridge->stop() == 0);
}

}  // namespace mxbridge::test
