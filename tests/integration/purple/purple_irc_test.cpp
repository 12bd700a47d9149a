// The libpurple bridge over prpl-irc against a real InspIRCd: a Matrix user logs in to IRC
// with !login irc, talks with an IRC user in a DM, and is in a channel through !join irc.
#include <doctest/doctest.h>

#include "ircd_fixture.h"
#include "purple_env.h"
#include "spec_dir.h"

using namespace mxbridge::test;

namespace {

// Answers prpl-irc's questions: the nick first, then the server split and its options.
std::function<std::string(const std::string&)> ircAnswers(const InspircdFixture& ircd) {
    auto first = std::make_shared<bool>(true);
    return [first, port = ircd.port()](const std::string& question) -> std::string {
        if (*first) {
            *first = false;
            return "carolm";
        }
        if (question.find("Server") != std::string::npos) return "127.0.0.1";
        if (question.find("Port") != std::string::npos) return std::to_string(port);
        if (question.find("SSL") != std::string::npos) return "no";
        return "-";
    };
}

}  // namespace

TEST_CASE("prpl-irc against InspIRCd: !login irc, a DM with an IRC user, and a channel through !join irc") {
    MXBRIDGE_REQUIRE_SPEC();
    InspircdFixture ircd;
    PurpleBridgeEnv env;
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));

    std::string done = env.login("irc", ircAnswers(ircd));
    REQUIRE_MESSAGE(done.find("Logged in to irc as carolm@127.0.0.1") != std::string::npos, done);
    REQUIRE(env.waitConnected("irc", 30s));

    LineSocket bob = ircd.connectClient("bob");
    bob.writeLine("JOIN #lounge");
    bob.readUntil(" 366 bob #lounge ", 10s);
    bob.writeLine("TOPIC #lounge :IRC talk");
    bob.readUntil(" TOPIC #lounge :IRC talk", 10s);

    std::string answer = env.say("!join irc #lounge");
    CHECK_MESSAGE(answer.find("Joining #lounge") != std::string::npos, answer);
    bob.readUntil(R"(^:carolm!\S+ JOIN :?#lounge)", 20s);

    std::string room;
    REQUIRE(hs.waitFor([&] { return !(room = env.chatRoom()).empty(); }, 20s));
    hs.forceJoin(room, kCarol);
    // IRC nicks are people: bob's ghost in the channel is the one his DMs come from.
    const std::string bobGhost = "@purple_irc.bob:hs.test";
    CHECK(hs.waitFor([&] { return hs.members(room)[bobGhost] == "join"; }, 20s));
    auto topic = [&] {
        auto content = hs.stateContent(room, "m.room.topic");
        return content ? content->value("topic", "") : std::string();
    };
    CHECK(hs.waitFor([&] { return topic() == "IRC talk"; }, 10s));

    bob.writeLine("PRIVMSG #lounge :hello from IRC");
    std::string sender;
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "hello from IRC", &sender); }, 20s));
    CHECK(sender == bobGhost);
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "hi from Matrix"}});
    bob.readUntil(R"(^:carolm!\S+ PRIVMSG #lounge :hi from Matrix$)", 20s);
    bob.writeLine("PRIVMSG #lounge :got it");
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "got it"); }, 20s));
    CHECK(env.messageCount(room, "hi from Matrix") == 1);  // prpl-irc's local echo not bridged back

    // A private message: a DM room with the same ghost, and the answer goes back to bob.
    bob.writeLine("PRIVMSG carolm :psst, carol");
    std::string dm;
    REQUIRE(hs.waitFor([&] { return !(dm = env.directRoom()).empty(); }, 20s));
    REQUIRE(hs.waitFor([&] { return env.roomHas(dm, "psst, carol", &sender); }, 20s));
    CHECK(sender == bobGhost);
    hs.forceJoin(dm, kCarol);
    hs.sendAsUser(dm, kCarol, {{"msgtype", "m.text"}, {"body", "yes?"}});
    bob.readUntil(R"(^:carolm!\S+ PRIVMSG bob :yes\?$)", 20s);

    // Bob leaves the channel: his ghost leaves the channel's room.
    bob.writeLine("PART #lounge :bye");
    CHECK(hs.waitFor([&] { return hs.members(room)[bobGhost] == "leave"; }, 20s));

    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}
