// examples/echo's connector, driven through the testing kit: its rules, with no process.
#include <doctest/doctest.h>

#include "mxbridge/testing/fake_bridge_context.h"

using namespace mxbridge;
using namespace mxbridge::testing;

namespace {

// The echo bridge started on a fake context, with a message event to hand to its hooks.
struct EchoRig {
    explicit EchoRig(nlohmann::json config = nlohmann::json::object())
        : ctx({.config = std::move(config), .userTemplate = "echo_{id}", .bridgeName = "echo"}),
          connector(ConnectorRegistry::create("echo")) {
        REQUIRE(connector);
        connector->start(ctx);
    }
    FakeBridgeContext ctx;
    std::unique_ptr<Connector> connector;
    MatrixEvent event = MatrixEvent::fromJson(
        EventSource::Timeline,
        R"({"type":"m.room.message","event_id":"$hi","room_id":"!r:hs.test","sender":"@alice:hs.test",)"
        R"("content":{"msgtype":"m.text","body":"hi"}})");
    const RoomId room{"!r:hs.test"};
    const UserId alice{"@alice:hs.test"};
};

}  // namespace

TEST_CASE("the echo bridge answers a message in each linked remote room, prefixed, from the Echo ghost") {
    EchoRig rig(nlohmann::json{{"prefix", "echo: "}});
    HookResult result = rig.connector->onMatrixMessage(MatrixMessage{
        .event = rig.event, .room = rig.room,
        .remotes = {RemoteRoomId("echo/a"), RemoteRoomId("echo/b")}, .sender = rig.alice,
        .senderName = "alice", .body = "hi", .html = "<b>hi</b>"});
    CHECK(result.kind() == HookResult::Kind::Delivered);
    CHECK(result.remoteId() == RemoteMessageId("m/$hi"));

    std::vector<RemoteMessage> echoes = rig.ctx.remoteEventsOf<RemoteMessage>();
    REQUIRE(echoes.size() == 2);
    CHECK(echoes[0].portal.id == RemoteRoomId("echo/a"));
    CHECK(echoes[1].portal.id == RemoteRoomId("echo/b"));
    for (const RemoteMessage& echo : echoes) {
        CHECK(echo.body == "echo: hi");
        CHECK(echo.html == std::optional<std::string>("echo: <b>hi</b>"));
        CHECK(echo.sender.ghostId == "echo");
        CHECK(echo.sender.displayName == std::optional<std::string>("Echo"));
        CHECK(echo.id == RemoteMessageId("echo/$hi"));
        CHECK(echo.replyTo == std::optional<RemoteMessageId>(RemoteMessageId("m/$hi")));
    }
    CHECK(rig.ctx.intentLog().all().empty());  // all through queueRemote, no intent used
}

TEST_CASE("edits, deletions and reactions on Matrix come back on the echo of the message") {
    EchoRig rig;
    const std::vector<RemoteRoomId> remotes{RemoteRoomId("echo/a")};
    auto* edits = dynamic_cast<EditHandler*>(rig.connector.get());
    auto* redactions = dynamic_cast<RedactionHandler*>(rig.connector.get());
    auto* reactions = dynamic_cast<ReactionHandler*>(rig.connector.get());
    REQUIRE(edits);
    REQUIRE(redactions);
    REQUIRE(reactions);

    const EventId original("$orig");
    edits->onMatrixEdit(MatrixEdit{.event = rig.event, .room = rig.room, .remotes = remotes,
                                   .sender = rig.alice, .target = original, .newBody = "fixed"});
    redactions->onMatrixRedaction(MatrixRedaction{.event = rig.event, .room = rig.room,
                                                  .remotes = remotes, .sender = rig.alice,
                                                  .target = original});
    reactions->onMatrixReaction(MatrixReaction{.event = rig.event, .room = rig.room,
                                               .remotes = remotes, .sender = rig.alice,
                                               .target = original, .key = "👍"});

    REQUIRE(rig.ctx.remoteEvents().size() == 3);
    RemoteEdit edit = rig.ctx.remoteEventsOf<RemoteEdit>().at(0);
    CHECK(edit.target == RemoteMessageId("echo/$orig"));
    CHECK(edit.newBody == "fixed");
    RemoteRedaction redaction = rig.ctx.remoteEventsOf<RemoteRedaction>().at(0);
    CHECK(redaction.target == RemoteMessageId("echo/$orig"));
    CHECK(redaction.reason == "the original was deleted");
    RemoteReaction reaction = rig.ctx.remoteEventsOf<RemoteReaction>().at(0);
    CHECK(reaction.target == RemoteMessageId("echo/$orig"));
    CHECK(reaction.key == "👍");
    CHECK(reaction.id == RemoteMessageId("r/$hi"));
    CHECK_FALSE(reaction.removed);
}

TEST_CASE("joining #echo_<name> creates a public portal for the remote room echo/<name>") {
    EchoRig rig;
    AliasQueryAnswer answer = rig.connector->onAliasQuery(RoomAlias("#echo_lobby:hs.test"));
    REQUIRE(answer.portal);
    CHECK(answer.portal->id == RemoteRoomId("echo/lobby"));
    CHECK(answer.portal->name == "Echo lobby");
    CHECK(answer.portal->aliasId == "lobby");
    CHECK(answer.portal->isPublic);
}

TEST_CASE("!echo-rooms lists every linked room to whoever asks") {
    EchoRig rig;
    REQUIRE(rig.ctx.commandRegistry().find("echo-rooms"));
    rig.ctx.links().link(Link{.room = RoomId("!a:hs.test"), .remote = RemoteRoomId("echo/a")});
    rig.ctx.links().link(Link{.room = RoomId("!b:hs.test"), .remote = RemoteRoomId("echo/b")});
    CHECK(rig.ctx.commandRegistry().run("!echo-rooms") ==
          std::vector<std::string>{"Echo rooms:\n!a:hs.test <-> echo/a\n!b:hs.test <-> echo/b"});
}
