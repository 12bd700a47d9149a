// User, alias and third-party queries: 404 M_NOT_FOUND for what the bridge does not provide,
// 200 only once the ghost or room exists on the homeserver; answers checked against the spec.
#include <doctest/doctest.h>

#include <future>
#include <thread>

#include "bridge_process.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

std::string userPath(const std::string& userId) { return "/_matrix/app/v1/users/" + percentEncode(userId); }
std::string aliasPath(const std::string& alias) { return "/_matrix/app/v1/rooms/" + percentEncode(alias); }

}  // namespace

TEST_CASE("a user query registers the ghost with its display name before answering 200, and unknown users get 404 M_NOT_FOUND") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string known = "@probe_known1:hs.test";

    AsResponse r = client.get(userPath(known), bearer());
    INFO(env.bridge->lastLines());
    CHECK(r.status == 200);
    CHECK(json::parse(r.body, nullptr, false) == json::object());
    CHECK(responseProblems("queryUserById", r).empty());
    CHECK(env.hs->isRegistered(known));
    CHECK(env.hs->profile(known).displayname == std::optional<std::string>("Probe probe_known1"));
    // Asking again (the ghost exists now) is still a 200.
    CHECK(client.get(userPath(known), bearer()).status == 200);

    for (const std::string unknown : {"@probe_stranger:hs.test", "@alice:hs.test", "@probe_known2:other.test",
                                      "@bridgebot:hs.test"}) {
        INFO("user " << unknown);
        AsResponse nf = client.get(userPath(unknown), bearer());
        CHECK(nf.status == 404);
        CHECK(errcodeOf(nf) == "M_NOT_FOUND");
        CHECK(responseProblems("queryUserById", nf).empty());
        if (unknown != "@bridgebot:hs.test") CHECK_FALSE(env.hs->isRegistered(unknown));
    }
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("an alias query creates the room before answering 200, and unknown aliases get 404 M_NOT_FOUND") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string known = "#probe_knownroom:hs.test";
    AsResponse r = client.get(aliasPath(known), bearer());
    INFO(env.bridge->lastLines());
    CHECK(r.status == 200);
    CHECK(responseProblems("queryRoomByAlias", r).empty());
    auto room = env.hs->roomForAlias(known);
    REQUIRE(room.has_value());
    CHECK(env.hs->stateContent(*room, "m.room.name").value_or(json::object()).value("name", "") ==
          "Probe room probe_knownroom");
    CHECK(client.get(aliasPath(known), bearer()).status == 200);  // already exists: still 200

    for (const std::string unknown : {"#probe_elsewhere:hs.test", "#general:hs.test", "#probe_known:other.test"}) {
        INFO("alias " << unknown);
        AsResponse nf = client.get(aliasPath(unknown), bearer());
        CHECK(nf.status == 404);
        CHECK(errcodeOf(nf) == "M_NOT_FOUND");
        CHECK(responseProblems("queryRoomByAlias", nf).empty());
        CHECK_FALSE(env.hs->roomForAlias(unknown).has_value());
    }
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("third-party protocol metadata is served for the bridge's protocol and 404 for others") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    AsResponse r = client.get("/_matrix/app/v1/thirdparty/protocol/probe", bearer());
    CHECK(r.status == 200);
    CHECK(responseProblems("getProtocolMetadata", r).empty());
    json body = json::parse(r.body, nullptr, false);
    CHECK(body.value("user_fields", json::array()) == json::array({"name"}));
    CHECK(body.value("icon", "") == "mxc://example.org/probe");

    AsResponse nf = client.get("/_matrix/app/v1/thirdparty/protocol/irc", bearer());
    CHECK(nf.status == 404);
    CHECK(responseProblems("getProtocolMetadata", nf).empty());
    CHECK(client.get("/_matrix/app/v1/thirdparty/protocol/probe").status == 401);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("user and alias queries for ids outside the spec's grammar get 400 M_INVALID_PARAM and change nothing") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const size_t requestsBefore = env.hs->requests().size();
    const std::string longLocalpart(300, 'a');
    // Raw targets, as a hostile client could make a homeserver forward them.
    for (const std::string& target : {
             userPath("@probe_known1:hs.test") + "%00", userPath("@probe_known1:hs.test") + "%0D%0AX-A:%201",
             userPath("@probe_known1:hs.test/x"), userPath("@probe known1:hs.test"),
             userPath("@probe_" + longLocalpart + ":hs.test"), userPath("@probe_known1"),
             aliasPath("#probe_knownroom:hs.test") + "%00", aliasPath("#probe_known\nroom:hs.test"),
             aliasPath("#probe_" + longLocalpart + ":hs.test"), aliasPath("#probe_knownroom:hs.test?x")}) {
        INFO("target " << target);
        AsResponse r = client.get(target, bearer());
        CHECK(r.status == 400);
        CHECK(errcodeOf(r) == "M_INVALID_PARAM");
    }
    CHECK(client.get(userPath("@probe_known1:hs.test") + "%00").status == 401);  // no token: still 401 first
    INFO(env.bridge->lastLines());
    CHECK(env.hs->requests().size() == requestsBefore);  // the homeserver heard nothing of them
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("/health answers at once while four alias queries wait on a slow createRoom, and the queries run side by side") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    env.hs->setOperationLatency("createRoom", 1500ms);
    auto started = std::chrono::steady_clock::now();
    std::vector<std::future<AsResponse>> queries;
    for (int i = 0; i < 4; ++i) {
        queries.push_back(std::async(std::launch::async, [&env, i] {
            AsClient client(env.bridge->port());
            return client.get(aliasPath("#probe_knownslow" + std::to_string(i) + ":hs.test"), bearer(), 15s);
        }));
    }
    std::this_thread::sleep_for(200ms);  // the queries are waiting on the homeserver now
    AsClient monitor(env.bridge->port());
    AsResponse health = monitor.get("/health", {}, 5s);
    CHECK(health.status == 200);
    CHECK(health.elapsed < 500ms);
    CHECK(monitor.get("/metrics", {}, 5s).elapsed < 500ms);
    for (auto& q : queries) {
        AsResponse r = q.get();
        CHECK(r.status == 200);
        CHECK(responseProblems("queryRoomByAlias", r).empty());
    }
    // One after another they would take four createRooms: 6 s and more.
    auto took = std::chrono::steady_clock::now() - started;
    INFO("four alias queries took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < 4s);
    for (int i = 0; i < 4; ++i) CHECK(env.hs->roomForAlias("#probe_knownslow" + std::to_string(i) + ":hs.test").has_value());
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("user and alias queries for valid ids holding '/', '..', '?' and '#' reach the homeserver as exactly those ids") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const SpecCatalog& spec = SpecCatalog::shared();
    // The parameters of every request the bridge made to `operationId`.
    auto paramsOf = [&](const std::string& operationId) {
        std::vector<StringMap> out;
        for (const auto& r : env.hs->requests()) {
            const Operation* op = spec.findOperation(r.method, r.path);
            if (op && op->operationId == operationId) out.push_back(spec.matchPath(*op, r.path).value_or(StringMap{}));
        }
        return out;
    };

    const std::string user = "@probe_known1/../../x=y+z:hs.test";
    AsResponse u = client.get(userPath(user), bearer());
    INFO(env.bridge->lastLines());
    CHECK(u.status == 200);
    CHECK(env.hs->isRegistered(user));
    CHECK(env.hs->profile(user).displayname == std::optional<std::string>("Probe probe_known1/../../x=y+z"));
    auto profiles = paramsOf("setProfileField");
    REQUIRE(profiles.size() == 1);
    CHECK(profiles[0] == StringMap{{"userId", user}, {"keyName", "displayname"}});

    const std::string alias = "#probe_known/../..?x=1#y%2F:hs.test";
    AsResponse a = client.get(aliasPath(alias), bearer());
    CHECK(a.status == 200);
    CHECK(env.hs->roomForAlias(alias).has_value());
    auto lookups = paramsOf("getRoomIdByAlias");
    REQUIRE_FALSE(lookups.empty());
    for (const auto& params : lookups) CHECK(params == StringMap{{"roomAlias", alias}});
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("an alias query the homeserver is too slow to finish is answered 404 by appservice.query_timeout_seconds, and the room still appears") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.queryTimeoutSeconds = 1; });
    env.bridge->startRunning();
    env.hs->setOperationLatency("createRoom", 3000ms);
    const std::string alias = "#probe_knowntardy:hs.test";
    AsClient client(env.bridge->port());
    AsResponse r = client.get(aliasPath(alias), bearer(), 10s);
    INFO(env.bridge->lastLines());
    CHECK(r.status == 404);
    CHECK(errcodeOf(r) == "M_NOT_FOUND");
    CHECK(responseProblems("queryRoomByAlias", r).empty());
    CHECK(r.elapsed < 1800ms);  // the homeserver's own timeout here is 3 s
    CHECK_NOTHROW(env.bridge->process().waitForLine("not done in time", 2s));
    // The work went on: the room and its alias exist once the homeserver is done, and the
    // bridge has linked it, so asking again is answered from the link.
    CHECK_NOTHROW(env.bridge->process().waitForLine("portal created", 8s));
    CHECK(env.hs->roomForAlias(alias).has_value());
    env.hs->setOperationLatency("createRoom", 0ms);
    CHECK(client.get(aliasPath(alias), bearer()).status == 200);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("with appservice.query_timeout_seconds above 30, an alias query whose room takes over 30 s to create is answered 200, not 500 at 30 s") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.queryTimeoutSeconds = 50; });
    env.bridge->startRunning();
    // Each attempt takes 11 s, within the bridge's 30 s HTTP timeout; the first two are
    // refused with 502 and retried, so the room exists after about 34 s.
    env.hs->failNext(2, 502);
    env.hs->setOperationLatency("createRoom", 11000ms);
    const std::string alias = "#probe_knownpatient:hs.test";
    AsClient client(env.bridge->port());
    AsResponse r = client.get(aliasPath(alias), bearer(), 55s);
    CHECK(r.elapsed > 30s);
    INFO(env.bridge->lastLines());
    CHECK(r.status == 200);
    CHECK(responseProblems("queryRoomByAlias", r).empty());
    CHECK(env.hs->roomForAlias(alias).has_value());
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test
