// EventRouter: what a connector's onMatrixMessage sees of a reply's fallback.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "bridge/event_router.h"

using namespace mxbridge;
using namespace mxbridge::detail;

namespace {

// Keeps the last message the router handed over.
class MessageCatcher final : public Connector {
public:
    BridgeInfo info() const override { return {}; }
    void start(BridgeContext&) override {}
    HookResult onMatrixMessage(const MatrixMessage& message) override {
        body = message.body;
        html = message.html;
        return HookResult::delivered();
    }
    std::string body;
    std::optional<std::string> html;
};

// The router's dependencies for `connector` in a room linked to `remotes`.
EventRouter::Deps depsFor(Connector& connector, std::vector<RemoteRoomId> remotes,
                          decltype(EventRouter::Deps::mapDelivered) mapDelivered = nullptr) {
    return EventRouter::Deps{
        .connector = connector,
        .bot = UserId("@bot:hs.test"),
        .remotesFor = [remotes](const RoomId&) { return remotes; },
        .remoteFor = [](const EventId&) { return std::nullopt; },
        .isGhost = [](const UserId&) { return false; },
        .command = nullptr,
        .botInvited = nullptr,
        .memberNames = nullptr,
        .mapDelivered = std::move(mapDelivered),
    };
}

// Routes one m.room.message with `content` from a real user in a portal.
void route(MessageCatcher& connector, const std::string& content) {
    EventRouter router(depsFor(connector, {RemoteRoomId("net/#x")}));
    router.route(MatrixEvent::fromJson(
        EventSource::Timeline,
        R"({"type":"m.room.message","event_id":"$reply","room_id":"!r:hs.test",)"
        R"("sender":"@alice:hs.test","origin_server_ts":1,"content":)" + content + "}"));
}

}  // namespace

TEST_CASE("a reply quoting a reply reaches the bridge without any of the nested <mx-reply>") {
    MessageCatcher connector;
    route(connector,
          R"({"msgtype":"m.text","body":"> <@bob:hs.test> > <@carol:hs.test> first\n> second\n\nmy answer",)"
          R"("format":"org.matrix.custom.html","formatted_body":)"
          R"("<mx-reply><blockquote>In reply to <mx-reply><blockquote>first</blockquote></mx-reply>)"
          R"(second</blockquote></mx-reply>my answer",)"
          R"("m.relates_to":{"m.in_reply_to":{"event_id":"$second"}}})");
    CHECK(connector.html == std::optional<std::string>("my answer"));
    CHECK(connector.body == "my answer");
}

TEST_CASE("a message that is not a reply keeps a leading quote and <mx-reply> as written") {
    MessageCatcher connector;
    route(connector,
          R"({"msgtype":"m.text","body":"> a quote\n\nmine","format":"org.matrix.custom.html",)"
          R"("formatted_body":"<mx-reply>q</mx-reply>mine"})");
    CHECK(connector.html == std::optional<std::string>("<mx-reply>q</mx-reply>mine"));
    CHECK(connector.body == "> a quote\n\nmine");
}

TEST_CASE("a hook's delivered(id) maps the event to that id on each linked remote room") {
    struct Delivering : Connector {
        BridgeInfo info() const override { return {}; }
        void start(BridgeContext&) override {}
        void stop() override {}
        HookResult onMatrixMessage(const MatrixMessage&) override { return HookResult::delivered(RemoteMessageId("m/1")); }
    } connector;
    std::vector<std::string> mapped;
    auto map = [&](const RoomId& room, const EventId& event, const RemoteRoomId& remote, const RemoteMessageId& id) {
        mapped.push_back(room.str() + " " + event.str() + " " + remote.str() + " " + id.str());
    };
    EventRouter router(depsFor(connector, {RemoteRoomId("net/#x"), RemoteRoomId("net/#y")}, map));
    router.route(MatrixEvent::fromJson(EventSource::Timeline,
                                       R"({"type":"m.room.message","event_id":"$e","room_id":"!r:hs.test",)"
                                       R"("sender":"@alice:hs.test","origin_server_ts":1,"content":{"msgtype":"m.text","body":"hi"}})"));
    CHECK(mapped == std::vector<std::string>{"!r:hs.test $e net/#x m/1", "!r:hs.test $e net/#y m/1"});
}

namespace {

// Keeps what the last state change carried.
struct StateCatcher : Connector {
    BridgeInfo info() const override { return {}; }
    void start(BridgeContext&) override {}
    HookResult onMatrixMessage(const MatrixMessage&) override { return HookResult::ignored(); }
    HookResult onMatrixStateChange(const MatrixStateChange& change) override {
        name = change.name;
        topic = change.topic;
        avatar = change.avatar;
        joinRule = change.joinRule;
        powerLevels = change.powerLevels;
        return HookResult::delivered();
    }
    std::optional<RoomNameChange> name;
    std::optional<RoomTopicChange> topic;
    std::optional<RoomAvatarChange> avatar;
    std::optional<JoinRuleChange> joinRule;
    std::optional<PowerLevelsChange> powerLevels;
};

void routeState(StateCatcher& connector, const std::string& type, const std::string& stateKey,
                const std::string& content, const std::string& unsignedPart = "{}") {
    EventRouter router(depsFor(connector, {RemoteRoomId("net/#x")}));
    router.route(MatrixEvent::fromJson(
        EventSource::Timeline,
        R"({"type":")" + type + R"(","state_key":")" + stateKey + R"(","event_id":"$s","room_id":"!r:hs.test",)"
        R"("sender":"@alice:hs.test","origin_server_ts":1,"content":)" + content + R"(,"unsigned":)" + unsignedPart + "}"));
}

}  // namespace

TEST_CASE("a room's name, topic, avatar and join rule reach the bridge typed") {
    StateCatcher c;
    routeState(c, "m.room.name", "", R"({"name":"The Room"})");
    REQUIRE(c.name);
    CHECK(c.name->name == "The Room");
    CHECK_FALSE(c.topic);

    routeState(c, "m.room.topic", "", R"({"topic":"Weekly sync"})");
    REQUIRE(c.topic);
    CHECK(c.topic->topic == "Weekly sync");
    CHECK_FALSE(c.name);

    routeState(c, "m.room.avatar", "", R"({"url":"mxc://hs.test/abc","info":{"mimetype":"image/png"}})");
    REQUIRE(c.avatar);
    CHECK(c.avatar->mxcUrl == "mxc://hs.test/abc");

    routeState(c, "m.room.join_rules", "", R"({"join_rule":"invite"})");
    REQUIRE(c.joinRule);
    CHECK(c.joinRule->joinRule == "invite");
}

TEST_CASE("a removed topic is an empty one, a wrongly typed field reads as empty, other state keys are untyped") {
    StateCatcher c;
    routeState(c, "m.room.topic", "", R"({})");
    REQUIRE(c.topic);
    CHECK(c.topic->topic.empty());
    routeState(c, "m.room.name", "", R"({"name":42})");
    REQUIRE(c.name);
    CHECK(c.name->name.empty());
    routeState(c, "m.room.topic", "not-empty", R"({"topic":"x"})");
    CHECK_FALSE(c.topic);
    routeState(c, "m.room.pinned_events", "", R"({"pinned":[]})");
    CHECK_FALSE(c.name);
    CHECK_FALSE(c.topic);
    CHECK_FALSE(c.powerLevels);
}

TEST_CASE("power levels: the spec's defaults, string levels of old rooms, and who changed") {
    StateCatcher c;
    // The spec's example of m.room.power_levels, with the previous content a homeserver sends.
    routeState(c, "m.room.power_levels", "",
               R"({"ban":50,"events":{"m.room.name":100,"m.room.power_levels":100},"events_default":0,)"
               R"("invite":50,"kick":50,"redact":50,"state_default":50,"users":{"@example:localhost":100,)"
               R"("@bob:hs.test":"50"},"users_default":0})",
               R"({"prev_content":{"users":{"@example:localhost":100,"@carol:hs.test":50}}})");
    REQUIRE(c.powerLevels);
    const PowerLevels& now = c.powerLevels->levels;
    CHECK(now.levelOf(UserId("@example:localhost")) == 100);
    CHECK(now.levelOf(UserId("@bob:hs.test")) == 50);  // "50": a string, as old rooms allow
    CHECK(now.levelOf(UserId("@nobody:hs.test")) == 0);
    CHECK(now.invite == 50);
    CHECK(now.maySend(UserId("@example:localhost"), "m.room.name", true));
    CHECK_FALSE(now.maySend(UserId("@bob:hs.test"), "m.room.name", true));
    CHECK(now.maySend(UserId("@bob:hs.test"), "m.room.topic", true));  // state_default 50
    CHECK(now.maySend(UserId("@nobody:hs.test"), "m.room.message", false));

    const PowerLevels& before = c.powerLevels->previous;
    CHECK(before.ban == 50);  // absent in prev_content: the spec's default
    CHECK(before.invite == 0);
    CHECK(now.usersChangedSince(before) == std::vector<UserId>{UserId("@bob:hs.test"), UserId("@carol:hs.test")});
}

TEST_CASE("power levels that are not numbers are skipped, not guessed") {
    StateCatcher c;
    routeState(c, "m.room.power_levels", "",
               R"({"ban":"lots","kick":[1],"users":{"@a:hs.test":"12abc","@b:hs.test":null,"@c:hs.test":-5},)"
               R"("users_default":"10"})");
    REQUIRE(c.powerLevels);
    const PowerLevels& levels = c.powerLevels->levels;
    CHECK(levels.ban == 50);
    CHECK(levels.kick == 50);
    CHECK(levels.usersDefault == 10);
    CHECK(levels.levelOf(UserId("@a:hs.test")) == 10);  // not a number: the default applies
    CHECK(levels.levelOf(UserId("@b:hs.test")) == 10);
    CHECK(levels.levelOf(UserId("@c:hs.test")) == -5);
}

TEST_CASE("a hook's deliveredPerRoom maps each linked room to its own id, and only linked rooms") {
    struct Delivering : Connector {
        BridgeInfo info() const override { return {}; }
        void start(BridgeContext&) override {}
        HookResult onMatrixMessage(const MatrixMessage&) override {
            return HookResult::deliveredPerRoom({{RemoteRoomId("net/#x"), RemoteMessageId("x-1")},
                                                 {RemoteRoomId("net/#gone"), RemoteMessageId("g-1")}});
        }
    } connector;
    std::vector<std::string> mapped;
    auto map = [&](const RoomId&, const EventId&, const RemoteRoomId& remote, const RemoteMessageId& id) {
        mapped.push_back(remote.str() + " " + id.str());
    };
    EventRouter router(depsFor(connector, {RemoteRoomId("net/#x"), RemoteRoomId("net/#y")}, map));
    router.route(MatrixEvent::fromJson(EventSource::Timeline,
                                       R"({"type":"m.room.message","event_id":"$e","room_id":"!r:hs.test",)"
                                       R"("sender":"@alice:hs.test","origin_server_ts":1,"content":{"msgtype":"m.text","body":"hi"}})"));
    CHECK(mapped == std::vector<std::string>{"net/#x x-1"});
}
