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

// Routes one m.room.message with `content` from a real user in a portal.
void route(MessageCatcher& connector, const std::string& content) {
    EventRouter router(EventRouter::Deps{
        .connector = connector,
        .bot = UserId("@bot:hs.test"),
        .remotesFor = [](const RoomId&) { return std::vector<RemoteRoomId>{RemoteRoomId("net/#x")}; },
        .remoteFor = [](const EventId&) { return std::nullopt; },
        .isGhost = [](const UserId&) { return false; },
        .command = nullptr,
        .botInvited = nullptr,
        .memberNames = nullptr,
        .mapDelivered = nullptr,
    });
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
    EventRouter router(EventRouter::Deps{
        .connector = connector,
        .bot = UserId("@bot:hs.test"),
        .remotesFor = [](const RoomId&) { return std::vector<RemoteRoomId>{RemoteRoomId("net/#x"), RemoteRoomId("net/#y")}; },
        .remoteFor = [](const EventId&) { return std::nullopt; },
        .isGhost = [](const UserId&) { return false; },
        .command = nullptr,
        .botInvited = nullptr,
        .memberNames = nullptr,
        .mapDelivered =
            [&](const RoomId& room, const EventId& event, const RemoteRoomId& remote, const RemoteMessageId& id) {
                mapped.push_back(room.str() + " " + event.str() + " " + remote.str() + " " + id.str());
            },
    });
    router.route(MatrixEvent::fromJson(EventSource::Timeline,
                                       R"({"type":"m.room.message","event_id":"$e","room_id":"!r:hs.test",)"
                                       R"("sender":"@alice:hs.test","origin_server_ts":1,"content":{"msgtype":"m.text","body":"hi"}})"));
    CHECK(mapped == std::vector<std::string>{"!r:hs.test $e net/#x m/1", "!r:hs.test $e net/#y m/1"});
}
