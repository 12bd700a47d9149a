// Portals made on demand (a Matrix user joining #irc_#chan) carry the channel's state, ghosts
// act with the power they have or the bot acts for them, and puppets are named after the Matrix display name (issue 9, items 6, 7, 8b, 9).
#include <doctest/doctest.h>

#include <regex>
#include <thread>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

const std::string kAlice = "@alice:hs.test";

std::string membership(HomeserverDouble& hs, const std::string& room, const std::string& user) {
    auto m = hs.members(room);
    auto it = m.find(user);
    return it == m.end() ? "" : it->second;
}

int powerOf(HomeserverDouble& hs, const std::string& room, const std::string& user) {
    auto pl = hs.stateContent(room, "m.room.power_levels");
    return pl && (*pl).contains("users") ? (*pl)["users"].value(user, 0) : 0;
}

std::string topicOf(HomeserverDouble& hs, const std::string& room) {
    auto t = hs.stateContent(room, "m.room.topic");
    return t ? t->value("topic", "") : "";
}

// mxbridge_remote_events_failed_total{reason="no_portal"}, 0 when not exported yet.
long noPortalFailures(IrcBridgeFixture& f) {
    HttpCallResult metrics = httpCall(f.bridgeUrl(), "GET", "/metrics", {}, "", 5s);
    REQUIRE(metrics.status == 200);
    std::smatch m;
    if (!std::regex_search(metrics.body, m,
                           std::regex(R"(mxbridge_remote_events_failed_total\{reason="no_portal"\} (\d+))")))
        return 0;
    return std::stol(m[1]);
}

// An IRC channel with an op who set a topic and two more members; returns their sockets.
std::vector<LineSocket> busyChannel(IrcBridgeFixture& f, const std::string& channel, const std::string& prefix) {
    std::vector<LineSocket> users;
    users.push_back(f.ircd().connectClient(prefix + "op"));
    users.back().writeLine("JOIN " + channel);
    users.back().readUntil(" 366 ");
    users.back().writeLine("TOPIC " + channel + " :topic of " + channel);
    users.back().readUntil(" TOPIC ");
    users.push_back(f.ircUser(prefix + "m1", channel));
    users.push_back(f.ircUser(prefix + "m2", channel));
    return users;
}

// Synapse takes a few hundred ms to create a room; the ircd answers the bot's JOIN (NAMES,
// topic) well before that. The double answers at once unless told otherwise.
void slowLikeSynapse(IrcBridgeFixture& f) { f.hs().setLatency(std::chrono::milliseconds(150)); }

void checkCarriesState(IrcBridgeFixture& f, const std::string& room, const std::string& channel,
                       const std::string& prefix) {
    auto& hs = f.hs();
    CAPTURE(channel);
    for (const char* who : {"op", "m1", "m2"})
        CHECK(hs.waitFor([&] { return membership(hs, room, f.ghost(prefix + who)) == "join"; }, 20s));
    CHECK(hs.waitFor([&] { return topicOf(hs, room) == "topic of " + channel; }, 20s));
    CHECK(hs.waitFor([&] { return powerOf(hs, room, f.ghost(prefix + "op")) == 50; }, 20s));
}

}  // namespace

TEST_CASE("a Matrix user joining #irc_#chan of a busy channel gets its members, its topic and its op's power") {
    IrcBridgeFixture f;
    auto users = busyChannel(f, "#busy", "b");
    f.startBridge();
    slowLikeSynapse(f);
    std::string room = f.joinPortal(kAlice, "#busy");
    checkCarriesState(f, room, "#busy", "b");
    CHECK(noPortalFailures(f) == 0);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("six busy channels joined through their aliases at once each get their members, topic and op's power") {
    IrcBridgeFixture f;
    std::vector<std::vector<LineSocket>> channels;
    for (int i = 0; i < 6; ++i) channels.push_back(busyChannel(f, "#six" + std::to_string(i), "s" + std::to_string(i)));
    f.startBridge();
    slowLikeSynapse(f);
    std::vector<std::string> rooms(6);
    std::vector<std::thread> joins;
    for (int i = 0; i < 6; ++i)
        joins.emplace_back([&, i] {
            try {
                rooms[i] = f.joinPortal("@user" + std::to_string(i) + ":hs.test", "#six" + std::to_string(i));
            } catch (const std::exception&) {
                // rooms[i] stays empty; REQUIRE below reports it
            }
        });
    for (auto& t : joins) t.join();
    for (int i = 0; i < 6; ++i) {
        REQUIRE_MESSAGE(!rooms[i].empty(), "no room for #six" << i);
        checkCarriesState(f, rooms[i], "#six" + std::to_string(i), "s" + std::to_string(i));
    }
    CHECK(noPortalFailures(f) == 0);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("a topic set on IRC by a member without the power for it in Matrix is set by the bot") {
    IrcBridgeFixture f;
    LineSocket op = f.ircd().connectClient("freeop");
    op.writeLine("JOIN #free");
    op.readUntil(" 366 ");
    op.writeLine("MODE #free -t");  // anyone may set the topic on IRC
    op.readUntil(" MODE #free :?-t");
    LineSocket carol = f.ircUser("carol", "#free");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#free");
    auto& hs = f.hs();
    REQUIRE(hs.waitFor([&] { return membership(hs, room, f.ghost("carol")) == "join"; }, 20s));
    carol.writeLine("TOPIC #free :carol's topic");
    // carol's ghost has power 0 (state_default is 50): the homeserver refuses it, the bot sets it.
    json topic = f.waitForEvent(room, [](const json& e) {
        return e.value("type", "") == "m.room.topic" && e["content"].value("topic", "") == "carol's topic";
    }, 20s);
    CHECK(topic.value("sender", "") == f.botId());
    CHECK(powerOf(hs, room, f.ghost("carol")) == 0);
    CHECK(hs.specViolations().empty());
}

TEST_CASE("a Matrix user whose display name is Alice speaks on IRC as Alice[m]") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#names");
    f.startBridge();
    const std::string user = "@u4711:hs.test";
    f.hs().addUser(user, Profile{.displayname = "Alice", .avatarUrl = std::nullopt});
    std::string room = f.joinPortal(user, "#names");
    f.say(room, user, "hello, I am Alice");
    bob.readUntil(R"(^:Alice\[m\]!\S+ PRIVMSG #names :hello, I am Alice$)", 20s);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("a bridge killed while it creates a portal on demand brings the channel's state into that room after a restart, once") {
    IrcBridgeFixture f;
    auto users = busyChannel(f, "#crash", "k");
    f.startBridge();
    f.bridge().waitForLine("bridge bot connection state=Connected", 20s);
    // Wide window: the homeserver takes 1.5 s per request, so the room is not made (nor
    // linked) when the bridge dies; the ircd's NAMES and topic are waiting for it by then.
    f.hs().setLatency(std::chrono::milliseconds(1500));
    std::thread join([&] {
        try {
            f.joinPortal(kAlice, "#crash");
        } catch (const std::exception&) {
            // expected: the bridge dies under the query
        }
    });
    f.bridge().waitForLine("creating portal", 20s);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the NAMES replies come meanwhile
    const std::string before = f.bridge().lastLines(400);
    f.bridge().kill9();
    join.join();
    REQUIRE_MESSAGE(before.find("portal created") == std::string::npos, "the kill came after the portal was linked");

    f.hs().setLatency(std::chrono::milliseconds(0));
    f.startBridge();
    auto& hs = f.hs();
    std::optional<std::string> room;
    REQUIRE(hs.waitFor([&] { return (room = hs.roomForAlias("#irc_#crash:" + std::string(kIrcServerName))).has_value(); }, 20s));
    hs.forceJoin(*room, kAlice);
    checkCarriesState(f, *room, "#crash", "k");
    // Once: the held events went out after the restart and were not sent a second time.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::map<std::string, int> joins;
    int topics = 0;
    for (const json& e : hs.timeline(*room)) {
        if (e.value("type", "") == "m.room.member" && e["content"].value("membership", "") == "join")
            ++joins[e.value("state_key", "")];
        if (e.value("type", "") == "m.room.topic" && e["content"].value("topic", "") == "topic of #crash") ++topics;
    }
    for (const char* who : {"op", "m1", "m2"}) CHECK(joins[f.ghost(std::string("k") + who)] == 1);
    CHECK(topics == 1);
    CHECK(noPortalFailures(f) == 0);
    CHECK(hs.specViolations().empty());
}
