// Slack events as Matrix sees them: who said what, edits, deletions, and the bridge's own
// posts not coming back as echoes.
#include <doctest/doctest.h>

#include "inbound_events.h"

using namespace mxbridge;
using namespace mxbridge::slack;

namespace {

const SelfIdentity kSelf{.botUserId = "U0BOTUSR1", .botId = "B0BOTID01"};

class Directory final : public SenderDirectory {
public:
    RemoteSender sender(const std::string& userId) override {
        return RemoteSender{.id = RemoteUserId(userId), .ghostId = ghostIdFor(userId), .displayName = std::string(nameOf(userId)),
                            .avatarMxc = std::nullopt};
    }
    std::string nameOf(std::string_view userId) override { return userId == "U0ALICE01" ? "Alice" : "Bob"; }
    std::optional<RemoteMedia> file(const nlohmann::json& file) override {
        if (file.value("name", "") == "gone.txt") return std::nullopt;
        return RemoteMedia{.bytes = "bytes of " + file.value("name", ""), .mimeType = file.value("mimetype", ""),
                           .fileName = file.value("name", "")};
    }
};

EventCallback callback(nlohmann::json event) {
    std::string type = event.value("type", "");
    return EventCallback{.eventId = "Ev1", .teamId = "T1", .apiAppId = "A1", .eventTime = 1,
                         .eventType = type, .event = std::move(event)};
}

std::optional<RemoteEvent> map(nlohmann::json event) {
    Directory users;
    return inboundEvent(callback(std::move(event)), kSelf, users);
}

}  // namespace

TEST_CASE("a channel message comes from the sender's ghost, readable, with a stable id") {
    auto event = map({{"type", "message"}, {"channel", "C0CHAN001"}, {"user", "U0ALICE01"},
                      {"text", "hi &lt;3 <@U0BOB0001>"}, {"ts", "1700000000.000100"}});
    REQUIRE(event);
    const auto& message = std::get<RemoteMessage>(*event);
    CHECK(message.portal.id.str() == "C0CHAN001");
    CHECK_FALSE(message.portal.createIfMissing);
    CHECK(message.sender.id.str() == "U0ALICE01");
    CHECK(message.sender.ghostId == "u0alice01");
    CHECK(message.sender.displayName == "Alice");
    CHECK(message.body == "hi <3 @Bob");
    CHECK(message.id.str() == "C0CHAN001/1700000000.000100");
    CHECK(message.kind == MessageKind::Text);
}

TEST_CASE("a thread reply is a reply to the thread's root; the root itself is no reply") {
    auto reply = map({{"type", "message"}, {"channel", "C0CHAN001"}, {"user", "U0ALICE01"}, {"text", "in thread"},
                      {"ts", "1700000000.000200"}, {"thread_ts", "1700000000.000100"}});
    REQUIRE(reply);
    CHECK(std::get<RemoteMessage>(*reply).replyTo == RemoteMessageId("C0CHAN001/1700000000.000100"));
    auto root = map({{"type", "message"}, {"channel", "C0CHAN001"}, {"user", "U0ALICE01"}, {"text", "root"},
                     {"ts", "1700000000.000100"}, {"thread_ts", "1700000000.000100"}});
    REQUIRE(root);
    CHECK_FALSE(std::get<RemoteMessage>(*root).replyTo);
}

TEST_CASE("the bridge's own relayed posts are not bridged back") {
    CHECK_FALSE(map({{"type", "message"}, {"subtype", "bot_message"}, {"channel", "C0CHAN001"},
                     {"bot_id", "B0BOTID01"}, {"username", "Carol (Matrix)"}, {"text", "hi"}, {"ts", "1.2"}}));
    CHECK_FALSE(map({{"type", "message"}, {"channel", "C0CHAN001"}, {"user", "U0BOTUSR1"}, {"text", "hi"}, {"ts", "1.2"}}));
}

TEST_CASE("another app's post comes from a ghost named after it") {
    auto event = map({{"type", "message"}, {"subtype", "bot_message"}, {"channel", "C0CHAN001"}, {"bot_id", "B0OTHER01"},
                      {"username", "CI"}, {"text", "build passed"}, {"ts", "1.2"}});
    REQUIRE(event);
    CHECK(std::get<RemoteMessage>(*event).sender.ghostId == "b0other01");
    CHECK(std::get<RemoteMessage>(*event).sender.displayName == "CI");
}

TEST_CASE("/me becomes an emote") {
    auto event = map({{"type", "message"}, {"subtype", "me_message"}, {"channel", "C0CHAN001"}, {"user", "U0ALICE01"},
                      {"text", "waves"}, {"ts", "1.2"}});
    REQUIRE(event);
    CHECK(std::get<RemoteMessage>(*event).kind == MessageKind::Emote);
}

TEST_CASE("an edit replaces the text of the same message; an unfurl alone is no edit") {
    nlohmann::json changed = {{"type", "message"}, {"subtype", "message_changed"}, {"channel", "C0CHAN001"},
                              {"message", {{"user", "U0ALICE01"}, {"text", "fixed"}, {"ts", "1700000000.000100"}}},
                              {"previous_message", {{"user", "U0ALICE01"}, {"text", "fixd"}, {"ts", "1700000000.000100"}}}};
    auto event = map(changed);
    REQUIRE(event);
    const auto& edit = std::get<RemoteEdit>(*event);
    CHECK(edit.target.str() == "C0CHAN001/1700000000.000100");
    CHECK(edit.newBody == "fixed");
    changed["previous_message"]["text"] = "fixed";
    CHECK_FALSE(map(changed));
}

TEST_CASE("a deletion on Slack redacts the message, unless it was the bridge's own post") {
    nlohmann::json deleted = {{"type", "message"}, {"subtype", "message_deleted"}, {"channel", "C0CHAN001"},
                              {"deleted_ts", "1700000000.000100"},
                              {"previous_message", {{"user", "U0ALICE01"}, {"text", "oops"}, {"ts", "1700000000.000100"}}}};
    auto event = map(deleted);
    REQUIRE(event);
    CHECK(std::get<RemoteRedaction>(*event).target.str() == "C0CHAN001/1700000000.000100");
    deleted["previous_message"] = {{"bot_id", "B0BOTID01"}, {"text", "relayed"}};
    CHECK_FALSE(map(deleted));
}

TEST_CASE("events the bridge does not carry yet map to nothing") {
    CHECK_FALSE(map({{"type", "reaction_added"}, {"user", "U0ALICE01"}, {"reaction", "+1"}}));
    CHECK_FALSE(map({{"type", "message"}, {"subtype", "channel_join"}, {"channel", "C0CHAN001"}, {"user", "U0ALICE01"},
                     {"text", "<@U0ALICE01> has joined the channel"}, {"ts", "1.2"}}));
    CHECK_FALSE(map({{"type", "message"}, {"channel", "C0CHAN001"}, {"user", "U0ALICE01"}, {"ts", "1.2"}}));
}

TEST_CASE("a message with files is its text, then one Matrix message per file; a file that cannot be had is said") {
    Directory users;
    EventCallback shared = callback({{"type", "message"}, {"subtype", "file_share"}, {"channel", "C0CHAN001"},
                                     {"user", "U0ALICE01"}, {"text", "two files"}, {"ts", "1.2"},
                                     {"files", {{{"name", "cat.png"}, {"mimetype", "image/png"}},
                                                {{"name", "gone.txt"}, {"mimetype", "text/plain"}}}}});
    auto events = inboundEvents(shared, kSelf, users);
    REQUIRE(events.size() == 3);
    CHECK(std::get<RemoteMessage>(events[0]).body == "two files");
    const auto& image = std::get<RemoteMessage>(events[1]);
    CHECK(image.kind == MessageKind::Image);
    CHECK(image.id.str() == "C0CHAN001/1.2/file/1");
    CHECK(image.media->bytes == "bytes of cat.png");
    const auto& missing = std::get<RemoteMessage>(events[2]);
    CHECK(missing.kind == MessageKind::Notice);
    CHECK(missing.body == "(a file, gone.txt, could not be brought over from Slack)");
}

TEST_CASE("a reaction on a message is the emoji from the reactor's ghost; its removal has the same id; the app's own is dropped") {
    nlohmann::json added = {{"type", "reaction_added"}, {"user", "U0ALICE01"}, {"reaction", "tada"},
                            {"item", {{"type", "message"}, {"channel", "C0CHAN001"}, {"ts", "1700000000.000100"}}},
                            {"event_ts", "1700000001.000000"}};
    auto event = map(added);
    REQUIRE(event);
    const auto& reaction = std::get<RemoteReaction>(*event);
    CHECK(reaction.room.str() == "C0CHAN001");
    CHECK(reaction.sender.id.str() == "U0ALICE01");
    CHECK(reaction.target.str() == "C0CHAN001/1700000000.000100");
    CHECK(reaction.key == "🎉");
    CHECK_FALSE(reaction.removed);

    nlohmann::json removed = added;
    removed["type"] = "reaction_removed";
    auto back = map(removed);
    REQUIRE(back);
    CHECK(std::get<RemoteReaction>(*back).removed);
    CHECK(std::get<RemoteReaction>(*back).id == reaction.id);

    nlohmann::json custom = added;
    custom["reaction"] = "shipit";
    CHECK(std::get<RemoteReaction>(*map(custom)).key == ":shipit:");

    nlohmann::json own = added;
    own["user"] = "U0BOTUSR1";
    CHECK(!map(own));
    nlohmann::json onFile = added;
    onFile["item"] = {{"type", "file"}, {"file", "F0FILE0001"}};
    CHECK(!map(onFile));
}
