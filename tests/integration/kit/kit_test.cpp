// The echo bridge end to end: what a user in a portal sees, through edits, outages, restarts,
// bot commands and provisioning. Every test ends with the double's spec check.
#include <doctest/doctest.h>

#include <cstdlib>
#include <thread>

#include "echo_bridge.h"
#include "test_checks.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

const std::string kAlice = "@alice:hs.test";

json text(const std::string& body) { return {{"msgtype", "m.text"}, {"body", body}}; }

std::string bodyOf(const json& event) { return event["content"].value("body", ""); }

// The echo ghost's messages' bodies in the room, oldest first.
std::vector<std::string> echoes(const EchoBridge& bridge, const std::string& room) {
    std::vector<std::string> bodies;
    for (const auto& event : bridge.eventsFrom(room, kEchoGhost)) {
        if (event["content"].contains("m.relates_to")) continue;  // edits
        bodies.push_back(bodyOf(event));
    }
    return bodies;
}

// Alice joins the portal for #echo_<name>:hs.test; returns its room id.
std::string joinPortal(EchoBridge& bridge, const std::string& name) {
    std::string room = bridge.openPortal("#echo_" + name + ":hs.test");
    bridge.hs().forceJoin(room, kAlice);
    return room;
}

// Sends `count` numbered messages ("m01"…) from Alice; returns the expected echo bodies.
std::vector<std::string> sendNumbered(EchoBridge& bridge, const std::string& room, int count) {
    std::vector<std::string> bodies;
    for (int i = 1; i <= count; ++i) {
        std::string body = (i < 10 ? "m0" : "m") + std::to_string(i);
        bridge.hs().sendAsUser(room, kAlice, text(body));
        bodies.push_back(body);
    }
    return bodies;
}

std::string joined(const std::vector<std::string>& items) {
    std::string all;
    for (const auto& s : items) all += s + " ";
    return all;
}

}  // namespace

TEST_CASE("a message round-trips through the echo bridge") {
    EchoBridge bridge;
    bridge.start();
    std::string room = joinPortal(bridge, "lobby");
    bool bridged = false;
    for (const auto& event : bridge.hs().timeline(room)) bridged = bridged || event.value("type", "") == "m.bridge";
    CHECK_MESSAGE(bridged, "the portal carries m.bridge state");

    bridge.hs().sendAsUser(room, kAlice, text("hello"));
    INFO(bridge.lastLines());
    REQUIRE(bridge.hs().waitFor([&] { return !echoes(bridge, room).empty(); }, 10s));
    CHECK(echoes(bridge, room) == std::vector<std::string>{"hello"});
    checkNoSpecViolations(bridge.hs());
}

TEST_CASE("edits, redactions and reactions map through the event store") {
    EchoBridge bridge;
    bridge.start();
    std::string room = joinPortal(bridge, "edits");
    HomeserverDouble& hs = bridge.hs();
    INFO(bridge.lastLines());

    std::string original = hs.sendAsUser(room, kAlice, text("first"));
    REQUIRE(hs.waitFor([&] { return !bridge.eventsFrom(room, kEchoGhost).empty(); }, 10s));
    const std::string echo = bridge.eventsFrom(room, kEchoGhost).front()["event_id"];

    hs.sendAsUser(room, kAlice,
                  {{"msgtype", "m.text"},
                   {"body", "* second"},
                   {"m.new_content", text("second")},
                   {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", original}}}});
    auto editOf = [&]() -> std::optional<json> {
        for (const auto& e : bridge.eventsFrom(room, kEchoGhost))
            if (e["content"].contains("m.relates_to")) return e;
        return std::nullopt;
    };
    bool edited = hs.waitFor([&] { return editOf().has_value(); }, 10s);
    if (!edited)  // e.g. "* second" as a new message: the echo's event id was not mapped
        for (const auto& e : hs.timeline(room)) MESSAGE(e.dump());
    REQUIRE(edited);
    json edit = *editOf();
    CHECK(edit["content"]["m.relates_to"].value("rel_type", "") == "m.replace");
    CHECK(edit["content"]["m.relates_to"].value("event_id", "") == echo);
    CHECK(edit["content"]["m.new_content"].value("body", "") == "second");

    hs.sendAsUser(room, kAlice, {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", original}, {"key", "👍"}}}},
                  "m.reaction");
    REQUIRE(hs.waitFor([&] { return !bridge.eventsFrom(room, kEchoGhost, "m.reaction").empty(); }, 10s));
    json reaction = bridge.eventsFrom(room, kEchoGhost, "m.reaction").front();
    CHECK(reaction["content"]["m.relates_to"].value("event_id", "") == echo);
    CHECK(reaction["content"]["m.relates_to"].value("key", "") == "👍");

    hs.injectEvent({{"room_id", room}, {"sender", kAlice}, {"type", "m.room.redaction"}, {"redacts", original},
                    {"content", {{"redacts", original}}}});
    REQUIRE(hs.waitFor([&] { return !bridge.eventsFrom(room, kEchoGhost, "m.room.redaction").empty(); }, 10s));
    json redaction = bridge.eventsFrom(room, kEchoGhost, "m.room.redaction").front();
    CHECK(redaction.value("redacts", "") == echo);
    checkNoSpecViolations(hs);
}

TEST_CASE("the homeserver down for 30 s loses nothing and keeps order") {
    EchoBridge bridge;
    bridge.start();
    std::string room = joinPortal(bridge, "outage");
    HomeserverDouble& hs = bridge.hs();
    hs.setLatency(50ms);  // so the echoes are still being sent when it goes down
    auto expected = sendNumbered(bridge, room, 20);
    REQUIRE(hs.waitFor([&] { return !echoes(bridge, room).empty(); }, 10s));
    hs.goDown(30s);  // transactions still reach the bridge: the pusher is the double's client side
    const auto downAt = std::chrono::steady_clock::now();
    INFO("echoes before the outage: " << echoes(bridge, room).size());
    REQUIRE(hs.waitForDelivery(10s));
    hs.setLatency(0ms);
    // The outbox backs off from 250 ms, doubling: its retry after the outage comes within ~35 s.
    bool all = hs.waitFor([&] { return echoes(bridge, room).size() >= expected.size(); }, 100s);
    INFO(bridge.lastLines());
    INFO("echoes: " << joined(echoes(bridge, room)));
    CHECK(std::chrono::steady_clock::now() - downAt >= 29s);
    REQUIRE(all);
    std::this_thread::sleep_for(500ms);  // a duplicate would show up now
    CHECK(echoes(bridge, room) == expected);
    checkNoSpecViolations(hs);
}

TEST_CASE("a bridge restart mid-outage loses nothing") {
    EchoBridge bridge;
    bridge.start();
    std::string room = joinPortal(bridge, "restart");
    HomeserverDouble& hs = bridge.hs();
    bridge.hs().sendAsUser(room, kAlice, text("warm-up"));  // the ghost exists and is in the room
    REQUIRE(hs.waitFor([&] { return echoes(bridge, room).size() == 1; }, 10s));

    hs.goDown();
    auto expected = sendNumbered(bridge, room, 10);
    REQUIRE(hs.waitForDelivery(10s));  // the bridge accepted them all; its echoes are stuck
    std::this_thread::sleep_for(500ms);
    CHECK(echoes(bridge, room).size() == 1);
    auto code = bridge.stop(30s);
    CHECK(code.has_value());

    hs.comeBack();
    bridge.start();
    expected.insert(expected.begin(), "warm-up");
    bool all = hs.waitFor([&] { return echoes(bridge, room).size() >= expected.size(); }, 60s);
    INFO(bridge.lastLines());
    INFO("echoes: " << joined(echoes(bridge, room)));
    REQUIRE(all);
    std::this_thread::sleep_for(1s);  // a duplicate would show up now
    CHECK(echoes(bridge, room) == expected);
    checkNoSpecViolations(hs);
}

TEST_CASE("bot commands answer in the bot's DM") {
    EchoBridge bridge;
    bridge.start();
    std::string portal = joinPortal(bridge, "commands");
    HomeserverDouble& hs = bridge.hs();
    std::string dm = hs.createRoom(kAlice, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                            {"invite", json::array({kBot})}});
    INFO(bridge.lastLines());
    REQUIRE(hs.waitFor([&] { return hs.members(dm)[kBot] == "join"; }, 10s));

    auto noticeAfter = [&](const std::string& command) -> std::string {
        std::size_t before = bridge.eventsFrom(dm, kBot).size();
        hs.sendAsUser(dm, kAlice, text(command));
        if (!hs.waitFor([&] { return bridge.eventsFrom(dm, kBot).size() > before; }, 10s)) return "(no answer)";
        json reply = bridge.eventsFrom(dm, kBot)[before];
        CHECK(reply["content"].value("msgtype", "") == "m.notice");
        return bodyOf(reply);
    };
    std::string help = noticeAfter("!help");
    CHECK_MESSAGE(help.find("echo-rooms") != std::string::npos, help);
    std::string rooms = noticeAfter("!echo-rooms");
    CHECK_MESSAGE(rooms.find(portal) != std::string::npos, rooms);
    std::string unknown = noticeAfter("!nosuch");
    CHECK_MESSAGE(unknown.find("!help") != std::string::npos, unknown);
    checkNoSpecViolations(hs);
}

TEST_CASE("provisioning links and refuses") {
    const std::string secret = "provisioning-secret-for-tests";
    EchoBridge bridge(EchoSettings{true, secret});
    bridge.start();
    std::string portal = joinPortal(bridge, "provisioned");
    HomeserverDouble& hs = bridge.hs();
    AsClient client(bridge.port());
    const std::string base = "/_mxbridge/provision/v1";
    INFO(bridge.lastLines());

    AsResponse links = client.get(base + "/links", bearer(secret));
    REQUIRE(links.status == 200);
    CHECK_MESSAGE(links.body.find(portal) != std::string::npos, links.body);

    AsResponse wrong = client.get(base + "/links", bearer("not-the-provisioning-secret"));
    CHECK((wrong.status == 401 || wrong.status == 403));
    AsResponse none = client.get(base + "/links");
    CHECK((none.status == 401 || none.status == 403));

    // Alice's room: she created it (power 100); Bob joined it with the default 0.
    std::string room = hs.createRoom(kAlice, {{"preset", "public_chat"}});
    hs.forceJoin(room, "@bob:hs.test");
    hs.forceJoin(room, kBot);  // the bot reads the power levels as a member
    auto link = [&](const std::string& user) {
        json body{{"room_id", room}, {"remote_room", "echo/elsewhere"}, {"user_id", user}};
        return client.request("POST", base + "/link", bearer(secret), body.dump());
    };
    AsResponse refused = link("@bob:hs.test");
    CHECK_MESSAGE(refused.status == 403, refused.body);
    AsResponse accepted = link(kAlice);
    CHECK_MESSAGE(accepted.status == 200, accepted.body);
    AsResponse after = client.get(base + "/links?room_id=" + percentEncode(room), bearer(secret));
    CHECK_MESSAGE(after.body.find("echo/elsewhere") != std::string::npos, after.body);
    checkNoSpecViolations(hs);
}

// Run by example_echo_out_of_tree (echo_out_of_tree.sh) with MXBRIDGE_ECHO_PLUGIN set to the
// plug-in it built against the installed package; skipped in integration_kit's own run.
TEST_CASE("the out-of-tree echo plug-in round-trips a message" * doctest::skip()) {
    const char* plugin = std::getenv("MXBRIDGE_ECHO_PLUGIN");
    REQUIRE_MESSAGE(plugin != nullptr, "set MXBRIDGE_ECHO_PLUGIN to the built libmxbridge_echo.so");
    EchoSettings settings;
    settings.bridgeType = plugin;
    EchoBridge bridge(settings);
    bridge.start();
    std::string room = joinPortal(bridge, "plugin");
    bridge.hs().sendAsUser(room, kAlice, text("hello from a plug-in"));
    INFO(bridge.lastLines());
    REQUIRE(bridge.hs().waitFor([&] { return !echoes(bridge, room).empty(); }, 10s));
    CHECK(echoes(bridge, room) == std::vector<std::string>{"hello from a plug-in"});
    checkNoSpecViolations(bridge.hs());
}
