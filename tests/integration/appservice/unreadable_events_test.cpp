// Issue 9, items 1 and 2: no content of one event makes its transaction fail. Numbers past
// int64/uint64/double are valid JSON and handled, kept as text; lone surrogate escapes are
// handled, read as U+FFFD; an event the spec forbids (content not an object...) is
// acknowledged, skipped, logged with its id and counted, and its sender told in the portal.
// Bodies are written by hand: nlohmann can print neither such numbers nor such escapes.
#include <doctest/doctest.h>

#include "bridge_process.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

std::string event(const std::string& id, const std::string& room, const std::string& content,
                  const std::string& extra = "") {
    return R"({"type":"m.room.message","event_id":")" + id + R"(","room_id":")" + room +
           R"(","sender":"@alice:hs.test","origin_server_ts":1700000000000,"content":)" + content +
           extra + "}";
}

// A portal the probe bridges, made by an alias query as a homeserver would make one.
std::string portalRoom(BridgedHomeserver& env, AsClient& client) {
    const std::string alias = "#probe_knownpoison:hs.test";
    REQUIRE(client.get("/_matrix/app/v1/rooms/" + percentEncode(alias), bearer()).status == 200);
    auto room = env.hs->roomForAlias(alias);
    REQUIRE(room.has_value());
    return *room;
}

std::string metricsLine(AsClient& client, const std::string& name) {
    std::string body = client.get("/metrics").body;
    size_t at = body.find("\n" + name + " ");
    if (at == std::string::npos) return "";
    return body.substr(at + 1, body.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("a transaction with 2^64, 200-digit and 1e400 numbers in content is acknowledged and its events handled, the numbers kept as text") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string room = "!numbers:hs.test";
    const std::string digits(200, '9');
    std::string body = R"({"events":[)" +
                       event("$big", room, R"({"msgtype":"m.text","body":"hi","n":18446744073709551616})") + "," +
                       event("$digits", room, R"({"msgtype":"m.text","body":"hi","n":)" + digits + "}") + "," +
                       event("$exp", room, R"({"msgtype":"m.text","body":"hi","n":1e400})") +
                       R"(],"ephemeral":[{"type":"m.receipt","room_id":")" + room +
                       R"(","content":{"$big":{"m.read":{"@alice:hs.test":{"ts":18446744073709551616}}}}}]})";
    AsResponse r = putTransaction(client, "1", body);
    INFO(r.body << "\n" << env.bridge->lastLines());
    CHECK(r.status == 200);
    CHECK(json::parse(r.body, nullptr, false) == json::object());
    CHECK(eventually([&] { return env.bridge->handledCount("$exp") == 1; }));
    CHECK(env.bridge->handledLog(room) == std::vector<std::string>{"$big", "$digits", "$exp"});
    CHECK(eventually([&] { return env.bridge->kv("ephemeral:m.receipt") == "1"; }));
    // What the hook read: the exact digits, as a string.
    CHECK(json::parse(env.bridge->kv("content:$big").value_or("{}"))["n"] == "18446744073709551616");
    CHECK(json::parse(env.bridge->kv("content:$digits").value_or("{}"))["n"] == digits);
    CHECK(json::parse(env.bridge->kv("content:$exp").value_or("{}"))["n"] == "1e400");
    CHECK(metricsLine(client, "mxbridge_events_unreadable_total") == "mxbridge_events_unreadable_total 0");
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

// Synapse (Python) accepts a lone surrogate escape from a client and sends it on as it came.
TEST_CASE("a transaction with lone surrogate escapes is acknowledged and its events handled, each half pair read as U+FFFD") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string room = "!surrogates:hs.test";
    std::string body = R"({"events":[)" +
                       event("$high", room, R"({"msgtype":"m.text","body":"a\ud800b"})") + "," +
                       event("$low", room, R"({"msgtype":"m.text","body":"\udc00","\ud800x":"\ud83d\ude00"})") +
                       "," + event("$after", room, R"({"msgtype":"m.text","body":"fine"})") + "]}";
    AsResponse r = putTransaction(client, "1", body);
    INFO(r.body << "\n" << env.bridge->lastLines());
    CHECK(r.status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$after") == 1; }));
    CHECK(env.bridge->handledLog(room) == std::vector<std::string>{"$high", "$low", "$after"});
    const std::string replacement = "\xEF\xBF\xBD";
    CHECK(json::parse(env.bridge->kv("content:$high").value_or("{}"))["body"] == "a" + replacement + "b");
    json low = json::parse(env.bridge->kv("content:$low").value_or("{}"));
    CHECK(low["body"] == replacement);
    CHECK(low[replacement + "x"] == "\xF0\x9F\x98\x80");
    CHECK(metricsLine(client, "mxbridge_events_unreadable_total") == "mxbridge_events_unreadable_total 0");
    // An escape that is not JSON beside one is still refused.
    AsResponse bad = putTransaction(client, "2", R"({"events":[],"a":"\ud800","b":"\uZZZZ"})");
    CHECK(bad.status == 400);
    CHECK(errcodeOf(bad) == "M_NOT_JSON");
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a transaction whose body is not JSON still gets 400 M_NOT_JSON, also with a number past 2^64 in it") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    AsResponse r = putTransaction(client, "1", R"({"events":[],"n":18446744073709551616,"bad":01})");
    CHECK(r.status == 400);
    CHECK(errcodeOf(r) == "M_NOT_JSON");
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("an event whose content or unsigned is not an object is acknowledged, skipped, logged with its id, counted and its sender told") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string room = portalRoom(env, client);
    const std::string ok = R"({"msgtype":"m.text","body":"fine"})";
    std::string body = R"({"events":[)" + event("$before", room, ok) + "," +
                       event("$string", room, R"("just text")") + "," + event("$array", room, "[1,2]") + "," +
                       event("$null", room, "null") + "," +
                       event("$unsigned", room, ok, R"(,"unsigned":"later")") + "," +
                       event("$stamp", room, ok, R"(,"origin_server_ts":1e400)") + "," +
                       event("$after", room, ok) +
                       R"(],"ephemeral":[{"type":"m.typing","room_id":")" + room +
                       R"(","content":["@alice:hs.test"]},{"type":"m.presence","sender":"@alice:hs.test","content":7}],)"
                       R"("to_device":[{"type":"m.x","sender":"@alice:hs.test","content":null}]})";
    AsResponse r = putTransaction(client, "1", body);
    INFO(r.body << "\n" << env.bridge->lastLines());
    CHECK(r.status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$after") == 1; }));
    CHECK(env.bridge->handledLog(room) == std::vector<std::string>{"$before", "$after"});
    CHECK_FALSE(env.bridge->kv("ephemeral:m.typing").has_value());
    CHECK_FALSE(env.bridge->kv("ephemeral:m.presence").has_value());
    CHECK_FALSE(env.bridge->kv("to_device:m.x").has_value());
    CHECK(eventually([&] {
        return metricsLine(client, "mxbridge_events_unreadable_total") == "mxbridge_events_unreadable_total 8";
    }));
    std::string output = env.bridge->output();
    for (const char* id : {"$string", "$array", "$null", "$unsigned", "$stamp"}) {
        INFO(id);
        CHECK(output.find(id) != std::string::npos);
    }
    CHECK(output.find("its content is not an object") != std::string::npos);
    // Each skipped message gets a notice from the bot, replying to it.
    auto told = [&](const std::string& id) {
        for (const auto& e : env.hs->timeline(room)) {
            const json& c = e.value("content", json::object());
            if (e.value("sender", "") == env.hs->botUserId() && c.value("msgtype", "") == "m.notice" &&
                c.value("/m.relates_to/m.in_reply_to/event_id"_json_pointer, "") == id &&
                c.value("body", "").find("could not read it") != std::string::npos)
                return true;
        }
        return false;
    };
    for (const char* id : {"$string", "$array", "$null", "$unsigned", "$stamp"}) {
        INFO(id);
        CHECK(env.hs->waitFor([&] { return told(id); }, 10s));
    }
    CHECK_FALSE(told("$before"));
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test
