// The bridge bot's commands, in a Matrix user's DM with it, and what IRC users see of them.
#include <doctest/doctest.h>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {
const std::string kAlice = "@alice:hs.test";
const std::string kAdmin = "@root:hs.test";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("bot commands: help, join, whois, listrooms, nick, reconnect, quit; !cmd only for admins") {
    IrcBridgeOptions options;
    options.admins = {kAdmin};
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#cmds");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#cmds");
    f.say(room, kAlice, "hi");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #cmds :hi$)", 20s);
    std::string dm = f.openBotDm(kAlice);

    std::string help = f.command(dm, kAlice, "!help");
    for (const char* name : {"!join", "!link", "!nick", "!whois", "!storepass", "!removepass", "!quit", "!reconnect",
                             "!listrooms"})
        CHECK_MESSAGE(has(help, name), name << " missing from: " << help);
    CHECK_MESSAGE(!has(help, "!cmd"), help);

    std::string join = f.command(dm, kAlice, "!join #elsewhere");
    CHECK_MESSAGE(has(join, "#irc_#elsewhere:hs.test"), join);
    std::string whois = f.command(dm, kAlice, "!whois bob");
    CHECK_MESSAGE(has(whois, "bob is bob@127.0.0.1"), whois);
    std::string rooms = f.command(dm, kAlice, "!listrooms");
    CHECK_MESSAGE(has(rooms, "#cmds <-> " + room), rooms);

    std::string nick = f.command(dm, kAlice, "!nick alicia");
    CHECK_MESSAGE(has(nick, "alicia"), nick);
    bob.readUntil(R"(^:alice\[m\]!\S+ NICK :?alicia$)", 10s);
    f.command(dm, kAlice, "!reconnect");
    bob.readUntil(R"(^:alicia!\S+ QUIT :.*Reconnecting)", 10s);
    bob.readUntil(R"(^:alicia!\S+ JOIN :?#cmds$)", 15s);
    f.command(dm, kAlice, "!quit");
    bob.readUntil(R"(^:alicia!\S+ QUIT)", 10s);

    // No database.secret_key in this config: a password is refused, not stored in the clear.
    std::string storepass = f.command(dm, kAlice, "!storepass hunter2");
    CHECK_MESSAGE(has(storepass, "secret_key"), storepass);
    CHECK_MESSAGE(!has(storepass, "hunter2"), storepass);
    std::string refused = f.command(dm, kAlice, "!cmd test PRIVMSG bob :not from alice");
    CHECK_MESSAGE(has(refused, "admin"), refused);
    std::string adminDm = f.openBotDm(kAdmin);
    std::string sent = f.command(adminDm, kAdmin, "!cmd test PRIVMSG bob :from the admin");
    CHECK_MESSAGE(has(sent, "Sent to test"), sent);
    std::string line = bob.readUntil(R"(PRIVMSG bob :)", 10s);
    CHECK(has(line, ":bridgebot!"));
    CHECK(has(line, "from the admin"));
}

TEST_CASE("a nick set with !nick is the puppet's nick again after the ircd restarts") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#renick");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#renick");
    f.say(room, kAlice, "before");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #renick :before$)", 20s);
    std::string dm = f.openBotDm(kAlice);
    std::string nick = f.command(dm, kAlice, "!nick AliceNew");
    CHECK_MESSAGE(has(nick, "AliceNew"), nick);
    bob.readUntil(R"(^:alice\[m\]!\S+ NICK :?AliceNew$)", 10s);

    f.ircd().restart();
    LineSocket bob2 = f.ircUser("bob", "#renick");
    f.say(room, kAlice, "after");
    std::string line = bob2.readUntil(R"(PRIVMSG #renick :after$)", 60s);
    CHECK_MESSAGE(line.rfind(":AliceNew!", 0) == 0, line);
}
