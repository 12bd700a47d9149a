// Logins end to end: the real `mxbridge` with a plug-in that has logins, a user logging in in
// their DM with the bot. What they see: the questions, their password redacted and nowhere
// in the bot's answers, the log or /metrics; !status and the state endpoint showing the
// login connected, again after a restart (the login was stored, its secret sealed).
#include <doctest/doctest.h>

#include "bridge_process.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

constexpr const char* kAlice = "@alice:hs.test";
constexpr const char* kPassword = "hunter2-it";
constexpr const char* kSecret = "provisioning-secret-for-tests";

json text(const std::string& body) { return {{"msgtype", "m.text"}, {"body", body}}; }

}  // namespace

TEST_CASE("a user logs in in the DM: the password is redacted, shown nowhere, and the login survives a restart") {
    BridgedHomeserver env({}, [](BridgeSettings& s) {
        s.bridgeType = MXBRIDGE_LOGIN_PROBE_PLUGIN_PATH;
        s.secretKey = "a-database-secret-key-for-the-login-test";
        s.provisioningSecret = kSecret;
        s.logLevel = "debug";
    });
    HomeserverDouble& hs = *env.hs;
    hs.addUser(kAlice);
    env.bridge->startRunning();
    INFO(env.bridge->lastLines());
    std::string dm = hs.createRoom(kAlice, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                            {"invite", json::array({hs.botUserId()})}});
    REQUIRE(hs.waitFor([&] { return hs.members(dm)[hs.botUserId()] == "join"; }, std::chrono::seconds(10)));

    auto answerTo = [&](const std::string& body) -> std::pair<std::string, std::string> {
        size_t before = noticesIn(hs, dm).size();
        std::string event = hs.sendAsUser(dm, kAlice, text(body));
        if (!hs.waitFor([&] { return noticesIn(hs, dm).size() > before; }, std::chrono::seconds(10)))
            return {event, "(no answer)"};
        return {event, noticesIn(hs, dm).back()};
    };
    CHECK(answerTo("!login").second.find("User name") != std::string::npos);
    CHECK(answerTo("alice").second.find("Password") != std::string::npos);
    auto [passwordEvent, done] = answerTo(kPassword);
    CHECK(done == "Logged in to probe as alice. Send !status to see the connection.");

    // The bot redacted the password's event: the room shows the redaction, by the bot. It is
    // sent with the message's handling, while the "Logged in" notice comes from the login's
    // worker, so either may reach the homeserver first: wait for it.
    auto redactedByBot = [&] {
        for (const json& e : hs.timeline(dm)) {
            if (e.value("type", "") != "m.room.redaction" || e.value("sender", "") != hs.botUserId()) continue;
            if (e.value("redacts", e["content"].value("redacts", "")) == passwordEvent) return true;
        }
        return false;
    };
    CHECK(hs.waitFor(redactedByBot, std::chrono::seconds(10)));

    std::string status = answerTo("!status").second;
    CHECK(status.find("- probe: connected since") != std::string::npos);
    AsClient client(env.bridge->port());
    AsResponse state = client.get("/_mxbridge/v1/state", bearer(kSecret));
    REQUIRE(state.status == 200);
    json logins = json::parse(state.body)["logins"];
    REQUIRE(logins.size() == 1);
    CHECK(logins[0]["owner"] == kAlice);
    CHECK(logins[0]["state"] == "connected");

    AsResponse metrics = client.get("/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.body.find("mxbridge_logins_total{outcome=\"completed\"} 1") != std::string::npos);
    CHECK(metrics.body.find(kPassword) == std::string::npos);
    for (const std::string& notice : noticesIn(hs, dm)) CHECK(notice.find(kPassword) == std::string::npos);

    REQUIRE(env.bridge->stop() == 0);
    CHECK(env.bridge->output().find("login completed") != std::string::npos);
    CHECK(env.bridge->output().find(kPassword) == std::string::npos);

    // Started again: the stored login runs without anyone logging in, its secret opened.
    env.bridge->startRunning();
    AsClient again(env.bridge->port());
    CHECK(eventually([&] {
        AsResponse r = again.get("/_mxbridge/v1/state", bearer(kSecret));
        return r.status == 200 && json::parse(r.body)["logins"].size() == 1 &&
               json::parse(r.body)["logins"][0]["state"] == "connected";
    }));
    CHECK(env.bridge->output().find("stored logins loaded") != std::string::npos);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(hs);
}

TEST_CASE("logins through provisioning: start, step, list and delete, with clear errors") {
    BridgedHomeserver env({}, [](BridgeSettings& s) {
        s.bridgeType = MXBRIDGE_LOGIN_PROBE_PLUGIN_PATH;
        s.secretKey = "a-database-secret-key-for-the-login-test";
        s.provisioningSecret = kSecret;
    });
    env.hs->addUser(kAlice);
    env.bridge->startRunning();
    INFO(env.bridge->lastLines());
    AsClient client(env.bridge->port());
    const std::string base = "/_mxbridge/provision/v1";
    auto post = [&](const std::string& path, const json& body) {
        return client.request("POST", base + path, bearer(kSecret), body.dump());
    };

    AsResponse noSecret = client.request("POST", base + "/login/start", {}, json{{"user_id", kAlice}}.dump());
    CHECK(noSecret.status == 401);
    AsResponse started = post("/login/start", {{"user_id", kAlice}});
    REQUIRE(started.status == 200);
    json step = json::parse(started.body);
    CHECK(step["type"] == "fields");
    AsResponse wrong = post("/login/step", {{"user_id", kAlice}, {"session_id", step["session_id"]},
                                            {"values", {{"username", "alice"}, {"password", "nope"}}}});
    CHECK(wrong.status == 403);
    CHECK(errcodeOf(wrong) == "M_FORBIDDEN");
    CHECK(json::parse(wrong.body)["error"] == "Probe refused that password.");

    step = json::parse(post("/login/start", {{"user_id", kAlice}}).body);
    AsResponse ok = post("/login/step", {{"user_id", kAlice}, {"session_id", step["session_id"]},
                                         {"values", {{"username", "alice"}, {"password", kPassword}}}});
    REQUIRE(ok.status == 200);
    CHECK(json::parse(ok.body)["login"]["remote_name"] == "alice");
    CHECK(ok.body.find(kPassword) == std::string::npos);

    AsResponse listed = client.get(base + "/logins?user_id=%40alice%3Ahs.test", bearer(kSecret));
    REQUIRE(listed.status == 200);
    CHECK(json::parse(listed.body)["logins"][0]["network"] == "probe");
    CHECK(listed.body.find(kPassword) == std::string::npos);

    AsResponse removed = client.request("DELETE", base + "/login", bearer(kSecret),
                                        json{{"user_id", kAlice}, {"network", "probe"}}.dump());
    CHECK(removed.status == 200);
    AsResponse gone = client.request("DELETE", base + "/login", bearer(kSecret),
                                     json{{"user_id", kAlice}, {"network", "probe"}}.dump());
    CHECK(gone.status == 404);
    CHECK(errcodeOf(gone) == "M_NOT_FOUND");
    CHECK(env.bridge->stop() == 0);
    CHECK(env.bridge->output().find(kPassword) == std::string::npos);
}

}  // namespace mxbridge::test
