// libpurple chats as Matrix rooms: the stored ids read back, who a chat member's ghost is,
// and which joined chat a typed !join names.
#include <doctest/doctest.h>

#include "chat_mapping.h"

using namespace mxbridge::purple;

TEST_CASE("a chat room id reads back whole, the chat name last with its slashes") {
    std::string id = chatRoomId("jabber", "@carol:hs", "room@conference.example.org");
    CHECK(id == "chat/jabber/@carol:hs/room@conference.example.org");
    auto room = parseChatRoomId(id);
    REQUIRE(room);
    CHECK(room->network == "jabber");
    CHECK(room->owner == "@carol:hs");
    CHECK(room->chat == "room@conference.example.org");
    CHECK(parseChatRoomId("chat/irc/@carol:hs/#a/b")->chat == "#a/b");
    CHECK_FALSE(parseChatRoomId("im/jabber/@carol:hs/bob@example.org"));
    CHECK_FALSE(parseChatRoomId("chat/jabber/@carol:hs/"));
    CHECK_FALSE(parseChatRoomId("chat/jabber"));
}

TEST_CASE("a chat member is their buddy's ghost when the plugin knows them, else the nick in that chat") {
    CHECK(chatUserKey("room@conference.example.org", {.name = "Bob", .buddy = "bob@example.org", .alias = ""}) ==
          "bob@example.org");
    CHECK(chatUserKey("room@conference.example.org", {.name = "Bob", .buddy = "", .alias = ""}) ==
          "room@conference.example.org/Bob");
}

TEST_CASE("a typed !join names the chat the plugin joined: case folded, the MUC nick left out") {
    CHECK(namesChat("Room@Conference.example.org", "room@conference.example.org"));
    CHECK(namesChat("room@conference.example.org/carol", "room@conference.example.org"));
    CHECK(namesChat("#Chan", "#chan"));
    CHECK_FALSE(namesChat("room2@conference.example.org", "room@conference.example.org"));
    CHECK_FALSE(namesChat("#chan/x", "#chan"));
}
