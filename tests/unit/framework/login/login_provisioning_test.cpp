// Logins through provisioning: the same flows as the DM, answered as JSON; errors say what
// is wrong; a password goes in and never comes back out.
#include <doctest/doctest.h>

#include "login_rig.h"

using namespace mxbridge;
using namespace mxbridge::test;
using nlohmann::json;

namespace {

detail::ProvisioningRequest request(const std::string& method, const std::string& path, json body,
                                    std::optional<UserId> user = kAlice) {
    detail::ProvisioningRequest r;
    r.method = method;
    r.path = path;
    r.body = std::move(body);
    r.user = std::move(user);
    return r;
}

}  // namespace

TEST_CASE("a login through provisioning: start, answer the fields, listed with its state, deleted") {
    LoginRig rig;
    auto started = rig.provisioning.start(request("POST", "/login/start", {{"network", "probe"}}));
    REQUIRE(started.status == 200);
    CHECK(started.body["type"] == "fields");
    CHECK(started.body["network"] == "probe");
    REQUIRE(started.body["fields"].size() == 2);
    CHECK(started.body["fields"][1]["id"] == "password");
    CHECK(started.body["fields"][1]["kind"] == "secret");
    std::string session = started.body["session_id"];

    auto done = rig.provisioning.step(request("POST", "/login/step",
        {{"session_id", session}, {"values", {{"username", "alice"}, {"password", kRightPassword}}}}));
    INFO(done.body.dump());
    REQUIRE(done.status == 200);
    CHECK(done.body["type"] == "complete");
    CHECK(done.body["login"]["remote_name"] == "alice");
    CHECK(done.body.dump().find(kRightPassword) == std::string::npos);
    // The secret reached the bridge as a secret.
    CHECK(rig.handler.state->passwordsSeen == std::vector<std::string>{kRightPassword});

    rig.handler.lastHandle().report({.state = RemoteState::Connected, .reason = {}, .code = {}});
    auto listed = rig.provisioning.listLogins(request("GET", "/logins", nullptr));
    REQUIRE(listed.status == 200);
    REQUIRE(listed.body["logins"].size() == 1);
    CHECK(listed.body["logins"][0]["network"] == "probe");
    CHECK(listed.body["logins"][0]["state"] == "connected");
    CHECK(listed.body["logins"][0]["since"] == 1'765'130'400'000);
    CHECK(listed.body.dump().find(kRightPassword) == std::string::npos);

    CHECK(rig.provisioning.remove(request("DELETE", "/login", {{"network", "probe"}})).status == 200);
    CHECK_FALSE(rig.store.find(LoginKey{kAlice, "probe", ""}));
    auto again = rig.provisioning.remove(request("DELETE", "/login", {{"network", "probe"}}));
    CHECK(again.status == 404);
    CHECK(again.body["errcode"] == "M_NOT_FOUND");
}

TEST_CASE("provisioning login errors say what is wrong") {
    LoginRig rig;
    auto noUser = rig.provisioning.start(request("POST", "/login/start", json::object(), std::nullopt));
    CHECK(noUser.status == 400);
    CHECK(noUser.body["errcode"] == "M_MISSING_PARAM");

    auto unknown = rig.provisioning.start(request("POST", "/login/start", {{"network", "nowhere"}}));
    CHECK(unknown.status == 400);
    CHECK(unknown.body["errcode"] == "M_INVALID_PARAM");
    CHECK(unknown.body["error"] == "There is no network \"nowhere\" to log in to. You can log in to: probe, other.");

    auto badType = rig.provisioning.start(request("POST", "/login/start", {{"network", 5}}));
    CHECK(badType.status == 400);

    auto noSession = rig.provisioning.step(request("POST", "/login/step", {{"session_id", "nope"}}));
    CHECK(noSession.status == 404);
    CHECK(noSession.body["errcode"] == "M_NOT_FOUND");

    auto started = rig.provisioning.start(request("POST", "/login/start", json::object()));
    REQUIRE(started.status == 200);
    auto missingField = rig.provisioning.step(request("POST", "/login/step",
        {{"session_id", started.body["session_id"]}, {"values", {{"username", "alice"}}}}));
    CHECK(missingField.status == 400);
    CHECK(missingField.body["error"] == "values.password is required (Your Probe password)");

    auto refused = rig.provisioning.step(request("POST", "/login/step",
        {{"session_id", started.body["session_id"]}, {"values", {{"username", "alice"}, {"password", "wrong"}}}}));
    CHECK(refused.status == 403);
    CHECK(refused.body["code"] == "bad_password");
    CHECK(refused.body["error"] == "Probe refused the user name or password.");
    CHECK(refused.body.dump().find("wrong\"") == std::string::npos);
}

TEST_CASE("provisioning on a bridge without logins refuses a login clearly") {
    LoginRig rig(false);
    auto r = rig.provisioning.start(request("POST", "/login/start", json::object()));
    CHECK(r.status == 404);
    CHECK(r.body["errcode"] == "M_UNRECOGNIZED");
    CHECK(r.body["error"] == "The Probe bridge has no logins: you cannot log in to it with an account of your own.");
}

TEST_CASE("a link-and-wait login through provisioning: the step call waits for the approval") {
    LoginRig rig;
    auto started = rig.provisioning.start(request("POST", "/login/start", {{"flow", "code"}}));
    REQUIRE(started.status == 200);
    CHECK(started.body["type"] == "display_and_wait");
    CHECK(started.body["display"] == "https://probe.test/approve?c=42");
    auto done = rig.provisioning.step(request("POST", "/login/step", {{"session_id", started.body["session_id"]}}));
    REQUIRE(done.status == 200);
    CHECK(done.body["login"]["remote_name"] == "approved-user");
}
