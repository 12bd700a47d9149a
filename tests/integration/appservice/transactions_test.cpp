// Transactions as a homeserver pushes them: acknowledged durably, deduplicated by txnId+body and
// by event_id (also across restarts), own echoes skipped, every section routed, SIGTERM drains.
#include <doctest/doctest.h>

#include <set>

#include "bridge_process.h"
#include "ports.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

std::string txnBody(const std::vector<json>& events) { return json{{"events", events}}.dump(); }

// A room the double pushes to the bridge: a ghost is in it, so it concerns the appservice.
std::string bridgedRoom(HomeserverDouble& hs, const std::string& creator) {
    std::string room = hs.createRoom(creator);
    hs.forceJoin(room, "@probe_watcher:hs.test");
    return room;
}

}  // namespace

TEST_CASE("the spec's example transaction is acknowledged with {} and a Content-Length, and its events reach the bridge") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    auto example = SpecCatalog::shared().exampleRequestBody("sendTransaction");
    REQUIRE(example);
    REQUIRE((*example)["events"].size() > 0);

    AsClient client(env.bridge->port());
    AsResponse r = putTransaction(client, "1", example->dump());
    CHECK(r.status == 200);
    CHECK(json::parse(r.body, nullptr, false) == json::object());
    CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
    CHECK(responseProblems("sendTransaction", r).empty());

    std::set<std::string> ids;
    for (const auto& e : (*example)["events"]) ids.insert(e["event_id"].get<std::string>());
    for (const auto& id : ids) {
        INFO("event " << id << "\n" << env.bridge->lastLines());
        CHECK(eventually([&] { return env.bridge->handledCount(id) == 1; }));
    }
    CHECK(env.bridge->stop() == 0);
    for (const auto& id : ids) CHECK(env.bridge->handledCount(id) == 1);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("events pushed by the homeserver reach the bridge in order within each room") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::string alice = "@alice:hs.test";
    const std::string bob = "@bob:hs.test";
    std::string room1 = bridgedRoom(*env.hs, alice);
    std::string room2 = bridgedRoom(*env.hs, bob);
    std::vector<std::string> sent1, sent2;
    for (int i = 0; i < 40; ++i) {
        sent1.push_back(env.hs->sendAsUser(room1, alice, {{"msgtype", "m.text"}, {"body", "a" + std::to_string(i)}}));
        sent2.push_back(env.hs->sendAsUser(room2, bob, {{"msgtype", "m.text"}, {"body", "b" + std::to_string(i)}}));
    }
    REQUIRE(env.hs->waitForDelivery(10s));
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledLog(room1).size() >= sent1.size() &&
                                  env.bridge->handledLog(room2).size() >= sent2.size(); }));
    CHECK(env.bridge->handledLog(room1) == sent1);
    CHECK(env.bridge->handledLog(room2) == sent2);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a repeated txnId with the same body is acknowledged and not processed again, also after a restart") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    std::string body = txnBody({timelineEvent("$retry1", "!room:hs.test", "@alice:hs.test")});

    CHECK(putTransaction(client, "7", body).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$retry1") == 1; }));
    AsResponse again = putTransaction(client, "7", body);
    CHECK(again.status == 200);
    CHECK(json::parse(again.body, nullptr, false) == json::object());

    client.close();
    CHECK(env.bridge->stop() == 0);
    env.bridge->startRunning();
    AsClient after(env.bridge->port());
    CHECK(putTransaction(after, "7", body).status == 200);
    // A later transaction is handled, so the retry had its chance to be handled before it.
    CHECK(putTransaction(after, "8", txnBody({timelineEvent("$marker", "!room:hs.test", "@alice:hs.test")})).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$marker") == 1; }));
    CHECK(env.bridge->handledCount("$retry1") == 1);
    CHECK(env.bridge->handledLog("!room:hs.test") == std::vector<std::string>{"$retry1", "$marker"});
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a repeated txnId with a different body is a new transaction and is processed") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    CHECK(putTransaction(client, "1", txnBody({timelineEvent("$first", "!r:hs.test", "@alice:hs.test")})).status == 200);
    CHECK(putTransaction(client, "1", txnBody({timelineEvent("$second", "!r:hs.test", "@alice:hs.test")})).status == 200);
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledCount("$second") == 1; }));
    CHECK(env.bridge->handledCount("$first") == 1);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("after a restart of both, a homeserver numbering transactions from 1 again still gets its new events processed") {
    // FIELD-NOTES: Synapse on SQLite restarts txn ids at "1" after its own restart.
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::string alice = "@alice:hs.test";
    std::string room = bridgedRoom(*env.hs, alice);
    std::vector<std::string> sent;
    for (int i = 0; i < 3; ++i) {
        sent.push_back(env.hs->sendAsUser(room, alice, {{"msgtype", "m.text"}, {"body", "before " + std::to_string(i)}}));
        REQUIRE(env.hs->waitForDelivery(5s));  // one transaction each: ids 1, 2, 3
    }
    CHECK(env.bridge->stop() == 0);
    env.hs->restartTxnIds();
    env.bridge->startRunning();
    for (int i = 0; i < 3; ++i) {
        sent.push_back(env.hs->sendAsUser(room, alice, {{"msgtype", "m.text"}, {"body", "after " + std::to_string(i)}}));
        REQUIRE(env.hs->waitForDelivery(5s));
    }
    std::set<std::string> txnIds;
    for (const auto& t : env.hs->deliveredTransactions()) txnIds.insert(t.txnId);
    CHECK(txnIds.count("1") == 1);  // reused: the set holds each id once, delivered twice
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledLog(room).size() >= sent.size(); }));
    CHECK(env.bridge->handledLog(room) == sent);
    for (const auto& id : sent) CHECK(env.bridge->handledCount(id) == 1);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("an event already received in another transaction is not processed again, also after a restart") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    json e1 = timelineEvent("$dup1", "!d:hs.test", "@alice:hs.test");
    json e2 = timelineEvent("$dup2", "!d:hs.test", "@alice:hs.test");
    json e3 = timelineEvent("$dup3", "!d:hs.test", "@alice:hs.test");
    CHECK(putTransaction(client, "a", txnBody({e1})).status == 200);
    CHECK(putTransaction(client, "b", txnBody({e1, e2})).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$dup2") == 1; }));
    client.close();
    CHECK(env.bridge->stop() == 0);

    env.bridge->startRunning();
    AsClient after(env.bridge->port());
    CHECK(putTransaction(after, "c", txnBody({e2, e1, e3})).status == 200);
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledCount("$dup3") == 1; }));
    CHECK(env.bridge->handledCount("$dup1") == 1);
    CHECK(env.bridge->handledCount("$dup2") == 1);
    CHECK(env.bridge->handledLog("!d:hs.test") == std::vector<std::string>{"$dup1", "$dup2", "$dup3"});
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("the bridge's own echoes from its bot and ghosts are recognised and not dispatched") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string room = "!echo:hs.test";
    CHECK(putTransaction(client, "1", txnBody({timelineEvent("$fromBot", room, "@bridgebot:hs.test"),
                                               timelineEvent("$fromGhost", room, "@probe_carol:hs.test"),
                                               timelineEvent("$fromAlice", room, "@alice:hs.test"),
                                               // Same localpart on another server: not ours.
                                               timelineEvent("$fromRemote", room, "@probe_carol:other.test")}))
              .status == 200);
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledCount("$fromRemote") == 1; }));
    CHECK(env.bridge->handledLog(room) == std::vector<std::string>{"$fromAlice", "$fromRemote"});
    CHECK(env.bridge->handledCount("$fromBot") == 0);
    CHECK(env.bridge->handledCount("$fromGhost") == 0);
    AsResponse metrics = client.get("/metrics");
    CHECK(metrics.body.find("mxbridge_echoes_total 2") != std::string::npos);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("events, ephemeral (stable and de.sorunome.msc2409) and to_device are all accepted and routed") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::string room = "!eph:hs.test";
    json typing = json::parse(R"({"type": "m.typing", "room_id": "!eph:hs.test",
                                  "content": {"user_ids": ["@alice:hs.test"]}})");
    json receipt = json::parse(R"({"type": "m.receipt", "room_id": "!eph:hs.test",
                                   "content": {"$ev": {"m.read": {"@alice:hs.test": {"ts": 1}}}}})");
    json presence = json::parse(R"({"type": "m.presence", "sender": "@alice:hs.test",
                                    "content": {"presence": "online"}})");
    json toDevice = json::parse(R"({"type": "m.room_key_request", "sender": "@alice:hs.test",
                                    "to_user_id": "@probe_dave:hs.test", "to_device_id": "DEV",
                                    "content": {"action": "request_cancellation", "request_id": "1",
                                                "requesting_device_id": "X"}})");
    json body = {{"events", {timelineEvent("$withEph", room, "@alice:hs.test")}},
                 {"ephemeral", {typing, receipt, presence}},
                 {"de.sorunome.msc2409.ephemeral", {typing}},
                 {"to_device", {toDevice}},
                 {"de.sorunome.msc2409.to_device", {toDevice}}};
    // Through the homeserver's own pusher, as Synapse would send it.
    env.hs->pushTransaction(body);
    REQUIRE(env.hs->waitForDelivery(5s));
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->kv("to_device:m.room_key_request") == "2"; }));
    CHECK(env.bridge->handledCount("$withEph") == 1);
    CHECK(env.bridge->kv("ephemeral:m.typing") == "2");
    CHECK(env.bridge->kv("ephemeral:m.receipt") == "1");
    CHECK(env.bridge->kv("ephemeral:m.presence") == "1");
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("metrics count transactions and health answers 200 once running") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    CHECK(putTransaction(client, "m1", txnBody({timelineEvent("$m1", "!m:hs.test", "@alice:hs.test")})).status == 200);
    AsResponse metrics = client.get("/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.body.find("mxbridge_transactions_total") != std::string::npos);
    AsResponse health = client.get("/health");
    CHECK(health.status == 200);
    CHECK(json::parse(health.body, nullptr, false).value("status", "") == "ok");
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("with metrics disabled or moved to metrics.port, /metrics on the appservice listener answers 404, not an empty 200") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.metricsEnabled = false; });
    env.bridge->startRunning();
    {
        AsClient client(env.bridge->port());
        AsResponse off = client.get("/metrics");
        CHECK(off.status == 404);
        CHECK(errcodeOf(off) == "M_UNRECOGNIZED");
        CHECK(client.get("/health").status == 200);
    }
    CHECK(env.bridge->stop() == 0);

    env.bridge->settings().metricsEnabled = true;
    env.bridge->settings().metricsPort = freePort();
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    AsResponse moved = client.get("/metrics");
    CHECK(moved.status == 404);
    CHECK(errcodeOf(moved) == "M_UNRECOGNIZED");
    AsClient monitoring(env.bridge->settings().metricsPort);
    AsResponse there = monitoring.get("/metrics");
    CHECK(there.status == 200);
    CHECK(there.body.find("mxbridge_") != std::string::npos);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("SIGTERM while transactions stream acks what was in flight, exits 0, and every acknowledged event is handled exactly once") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.probeOptions = {"slow_ms: 5"}; });
    env.bridge->startRunning();
    const std::string alice = "@alice:hs.test";
    std::string room1 = bridgedRoom(*env.hs, alice);
    std::string room2 = bridgedRoom(*env.hs, alice);
    std::vector<std::string> sent1, sent2;
    for (int i = 0; i < 150; ++i) {
        sent1.push_back(env.hs->sendAsUser(room1, alice, {{"msgtype", "m.text"}, {"body", "x" + std::to_string(i)}}));
        sent2.push_back(env.hs->sendAsUser(room2, alice, {{"msgtype", "m.text"}, {"body", "y" + std::to_string(i)}}));
    }
    // Stop while the stream is under way: some transactions acked, some handled, more queued.
    REQUIRE(env.hs->waitFor([&] { return env.hs->deliveredTransactions().size() >= 2; }, 10s));
    auto code = env.bridge->stop(20s);
    INFO(env.bridge->lastLines());
    CHECK(code == 0);
    CHECK(env.bridge->output().find("stopped cleanly") != std::string::npos);

    env.bridge->startRunning();
    REQUIRE(env.hs->waitForDelivery(20s));
    CHECK(eventually([&] { return env.bridge->handledLog(room1).size() >= sent1.size() &&
                                  env.bridge->handledLog(room2).size() >= sent2.size(); }, 20s));
    CHECK(env.bridge->stop() == 0);
    CHECK(env.bridge->handledLog(room1) == sent1);
    CHECK(env.bridge->handledLog(room2) == sent2);
    int wrong = 0;
    for (const auto* sent : {&sent1, &sent2})
        for (const auto& id : *sent) wrong += env.bridge->handledCount(id) != 1;
    CHECK(wrong == 0);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test
