// Puppets as IRC users see them: connected on the first message and gone after
// idle_timeout_seconds of silence; with sync_members, connected for every Matrix reader, and a
// reader who cannot be on IRC is named in the room.
#include <doctest/doctest.h>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {
const std::string kAlice = "@alice:hs.test";
const std::string kDave = "@dave:hs.test";
}  // namespace

TEST_CASE("a puppet silent for idle_timeout_seconds quits, and the next message brings it back") {
    IrcBridgeOptions options;
    options.extraNetworkLines = {"idle_timeout_seconds: 2"};
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#idle");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#idle");
    f.say(room, kAlice, "one");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #idle :one$)", 20s);
    bob.readUntil(R"(^:alice\[m\]!\S+ QUIT :.*Idle)", 10s);
    f.say(room, kAlice, "two");
    bob.readUntil(R"(^:alice\[m\]!\S+ JOIN :?#idle$)", 15s);
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #idle :two$)", 10s);
}

TEST_CASE("with sync_members every Matrix reader joins on IRC, and one who cannot is named in the room") {
    IrcBridgeOptions options;
    options.extraNetworkLines = {"sync_members: true"};
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#sync");
    bob.writeLine("MODE #sync +b dave[m]!*@*");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#sync");
    // alice only joined: she reads, and IRC sees her.
    bob.readUntil(R"(^:alice\[m\]!\S+ JOIN :?#sync$)", 20s);
    std::size_t seen = f.botNoticeCount(room);
    f.hs().addUser(kDave);
    f.hs().forceJoin(room, kDave);
    std::string notice = f.nextBotNotice(room, seen);
    CHECK_MESSAGE(notice.find(kDave + " cannot join #sync on IRC") != std::string::npos, notice);
    CHECK_MESSAGE(notice.find("(474)") != std::string::npos, notice);
    CHECK_MESSAGE(notice.find("cannot see that they read along") != std::string::npos, notice);
    // A Matrix user leaving parts on IRC too.
    f.hs().injectEvent({{"room_id", room}, {"sender", kAlice}, {"type", "m.room.member"}, {"state_key", kAlice},
                        {"content", {{"membership", "leave"}}}});
    bob.readUntil(R"(^:alice\[m\]!\S+ PART #sync)", 15s);
}
