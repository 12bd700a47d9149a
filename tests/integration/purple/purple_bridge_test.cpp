// The libpurple bridge end to end, as a Matrix user sees it: !protocols lists what this
// machine's libpurple offers, !login jabber asks the fields prpl-jabber declares and logs
// the user's XMPP account in through the bridge's host; an XMPP user's IM arrives in a
// direct chat from their ghost and the answer typed there reaches them, and their typing
// shows on the ghost; a host killed with
// SIGKILL is replaced, the account comes back and IMs flow again.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "process.h"
#include "prosody_fixture.h"
#include "purple_env.h"
#include "spec_dir.h"

using namespace mxbridge::test;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

// What a user answers to each of prpl-jabber's questions, found by the words of the label.
std::string answerFor(const std::string& question, const ProsodyFixture& prosody) {
    const std::pair<const char*, std::string> answers[] = {
        {"XMPP username", "alice"},
        {"Domain", "localhost"},
        {"Resource", "bridge"},
        {"Password", "alicepw"},
        {"Connection security", "opportunistic_tls"},
        {"plaintext auth", "yes"},
        {"Connect port", std::to_string(prosody.c2sPort())},
        {"Connect server", "127.0.0.1"},
    };
    for (const auto& [words, answer] : answers)
        if (question.find(words) != std::string::npos) return answer;
    return "-";  // the plugin's default
}

}  // namespace

TEST_CASE("a Matrix user logs in to XMPP with !login jabber and talks with an XMPP user in a DM, across a host crash") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("bob", "bobpw");
    PurpleBridgeEnv env;
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));

    std::string protocols = env.say("!protocols");
    CHECK(protocols.find("jabber: XMPP (prpl-jabber)") != std::string::npos);
    CHECK(protocols.find("irc: IRC (prpl-irc)") != std::string::npos);

    // !login jabber: one question per message, as prpl-jabber declares them.
    std::vector<std::string> asked;
    std::string done = env.login("jabber", [&](const std::string& q) { return answerFor(q, prosody); }, &asked);
    MESSAGE(asked.size() << " questions; last answer: " << done);
    REQUIRE(!asked.empty());
    CHECK(asked.front().find("XMPP username") != std::string::npos);
    REQUIRE(done.find("Logged in to jabber as alice@localhost/bridge") != std::string::npos);
    bool askedPassword = false;
    for (const auto& q : asked) askedPassword = askedPassword || q.find("Password") != std::string::npos;
    CHECK(askedPassword);
    for (const auto& q : asked) CHECK(q.find("alicepw") == std::string::npos);

    // The account signs on through the host.
    REQUIRE(env.waitConnected("jabber", 30s));

    std::filesystem::path commands = env.dir() / "bob.commands";
    Process bob({.argv = {kPython, MXBRIDGE_CHAT_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                          "bob@localhost/pc", "--password", "bobpw", "--to", "alice@localhost", "--commands",
                          commands.string(), "--timeout", "200"},
                 .name = "bob"});
    bob.waitForLine("^READY", 20s);
    std::ofstream(commands, std::ios::app) << "say hello carol, from XMPP\n";

    // A direct chat for carol with bob's ghost, holding bob's line.
    std::string room;
    REQUIRE(hs.waitFor([&] { return !(room = env.directRoom()).empty(); }, 20s));
    std::string ghost;
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "hello carol, from XMPP", &ghost); }, 20s));
    CHECK(ghost == "@purple_jabber.bob=40localhost:hs.test");
    CHECK(hs.members(room)[kCarol] == "invite");

    // Carol answers in the DM: bob gets it from alice's account.
    hs.forceJoin(room, kCarol);
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "hi bob <3"}});
    bob.waitForLine("^MSG hi bob <3$", 20s);

    // Bob types: his ghost types in the DM; he stops: it stops.
    std::ofstream(commands, std::ios::app) << "state composing\n";
    auto ghostTyping = [&] { auto t = hs.typing(room); return std::find(t.begin(), t.end(), ghost) != t.end(); };
    CHECK_MESSAGE(hs.waitFor(ghostTyping, 10s), env.bridge().lastLines(30));
    std::ofstream(commands, std::ios::app) << "state active\n";
    CHECK(hs.waitFor([&] { return !ghostTyping(); }, 10s));
    // The host dies: the bridge logs how, starts another, and logs the account in again.
    long pid = env.hostPid();
    REQUIRE(pid > 0);
    REQUIRE(::kill(static_cast<pid_t>(pid), SIGKILL) == 0);
    env.bridge().waitForLine("purple host lost.*killed by signal 9", 15s);
    REQUIRE(hs.waitFor([&] { long now = env.hostPid(); return now > 0 && now != pid; }, 20s));
    REQUIRE(env.waitConnected("jabber", 30s));
    std::ofstream(commands, std::ios::app) << "say still there after the crash?\n";
    CHECK(hs.waitFor([&] { return env.roomHas(room, "still there after the crash?"); }, 20s));
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "yes, still here"}});
    bob.waitForLine("^MSG yes, still here$", 20s);

    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
    CHECK(readFile(env.bridge().logFile()).find("alicepw") == std::string::npos);
}

TEST_CASE("a wrong XMPP password: the owner is told libpurple's reason, !status says bad credentials, !logout forgets it") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    PurpleBridgeEnv env;
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));
    std::string done = env.login("jabber", [&](const std::string& q) {
        return q.find("Password") != std::string::npos ? std::string("not-her-password") : answerFor(q, prosody);
    });
    REQUIRE(done.find("Logged in to jabber") != std::string::npos);

    // libpurple's refusal reaches carol in her DM with the bot, and !status.
    CHECK(hs.waitFor([&] { return !env.noticesWith(env.dmOf(kCarol), "Incorrect username or password").empty(); },
                     30s));
    std::string status = env.say("!status");
    CHECK(status.find("jabber: bad_credentials") != std::string::npos);
    CHECK(status.find("send !login jabber to log in again") != std::string::npos);
    // Not retried: a refused password stays refused.
    std::this_thread::sleep_for(2s);
    CHECK(env.logCount("purple account will log in again") == 0);

    CHECK(env.say("!logout jabber").find("Logged out of jabber") != std::string::npos);
    CHECK(env.say("!status").find("jabber:") == std::string::npos);
    CHECK(readFile(env.bridge().logFile()).find("not-her-password") == std::string::npos);
    CHECK(env.bridge().terminate(15s) == 0);
}

TEST_CASE("a Matrix user starts a chat by inviting a buddy's ghost; both ways go through that room") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("dave", "davepw");
    PurpleBridgeEnv env;
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));
    const std::string ghost = "@purple_jabber.dave=40localhost:hs.test";

    // Before logging in: the ghost declines, saying what to do.
    std::string early = hs.createRoom(kCarol, {{"is_direct", true}, {"invite", nlohmann::json::array({ghost})}});
    CHECK(hs.waitFor([&] { return hs.members(early)[ghost] == "leave"; }, 10s));

    REQUIRE(env.login("jabber", [&](const std::string& q) { return answerFor(q, prosody); })
                .find("Logged in to jabber") != std::string::npos);
    REQUIRE(env.waitConnected("jabber", 30s));
    std::filesystem::path commands = env.dir() / "dave.commands";
    Process dave({.argv = {kPython, MXBRIDGE_CHAT_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                           "dave@localhost/pc", "--password", "davepw", "--to", "alice@localhost", "--commands",
                           commands.string(), "--timeout", "120"},
                  .name = "dave"});
    dave.waitForLine("^READY", 20s);

    std::string room = hs.createRoom(kCarol, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                              {"invite", nlohmann::json::array({ghost})}});
    REQUIRE(hs.waitFor([&] { return hs.members(room)[ghost] == "join"; }, 10s));
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "hi dave, from Matrix"}});
    dave.waitForLine("^MSG hi dave, from Matrix$", 20s);
    std::ofstream(commands, std::ios::app) << "say hello carol\n";
    std::string sender;
    CHECK(hs.waitFor([&] { return env.roomHas(room, "hello carol", &sender); }, 20s));
    CHECK(sender == ghost);
    // No second room was made for it.
    CHECK(env.directRoom().empty());
    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}

namespace {

// A slixmpp user in the MUC `room` as `nick`, obeying the lines appended to `commands`.
std::unique_ptr<Process> mucUser(const ProsodyFixture& prosody, const std::string& name, const std::string& room,
                                 const std::string& nick, const std::filesystem::path& commands) {
    return std::make_unique<Process>(ProcessOptions{
        .argv = {kPython, MXBRIDGE_MUC_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                 name + "@localhost/pc", "--password", name + "pw", "--room", room, "--nick", nick, "--commands",
                 commands.string(), "--timeout", "200"},
        .name = name});
}

// The member of `room` whose id holds `nick`, other than the bot and carol.
std::string memberLike(HomeserverDouble& hs, const std::string& room, const std::string& nick) {
    for (const auto& [user, membership] : hs.members(room))
        if (user.find(nick) != std::string::npos && user != kCarol && user != hs.botUserId()) return user;
    return {};
}

}  // namespace

TEST_CASE("!join jabber room@server: a Matrix user is in an XMPP room through her account, both ways, across a host crash, until she leaves the room") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("bob", "bobpw");
    prosody.registerUser("dave", "davepw");
    PurpleBridgeEnv env;
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));
    const std::string roomJid = std::string("lounge@") + ProsodyFixture::kMucDomain;

    // Bob makes the room and sets its subject before carol comes.
    std::filesystem::path bobCommands = env.dir() / "bob.commands";
    auto bob = mucUser(prosody, "bob", roomJid, "bob", bobCommands);
    bob->waitForLine("^UNLOCKED$", 20s);
    std::ofstream(bobCommands, std::ios::app) << "subject Lounge talk\n";
    bob->waitForLine("^SUBJECT bob Lounge talk$", 10s);

    REQUIRE(env.login("jabber", [&](const std::string& q) { return answerFor(q, prosody); })
                .find("Logged in to jabber") != std::string::npos);
    REQUIRE(env.waitConnected("jabber", 30s));
    std::string answer = env.say("!join jabber " + roomJid);
    CHECK_MESSAGE(answer.find("Joining " + roomJid) != std::string::npos, answer);
    bob->waitForLine("^PRESENCE alice available$", 20s);

    // Her room: made by the bot, inviting her, named after the chat, with its topic; bob's
    // ghost is in it.
    std::string room;
    REQUIRE(hs.waitFor([&] { return !(room = env.chatRoom()).empty(); }, 20s));
    CHECK(hs.members(room)[kCarol] == "invite");
    hs.forceJoin(room, kCarol);
    std::string bobGhost;
    REQUIRE(hs.waitFor([&] { return !(bobGhost = memberLike(hs, room, "bob")).empty(); }, 20s));
    CHECK(bobGhost.rfind("@purple_jabber.lounge", 0) == 0);
    CHECK(hs.waitFor([&] { return hs.members(room)[bobGhost] == "join"; }, 10s));
    auto topic = [&] {
        auto content = hs.stateContent(room, "m.room.topic");
        return content ? content->value("topic", "") : std::string();
    };
    CHECK(hs.waitFor([&] { return topic() == "Lounge talk"; }, 10s));

    // Lines both ways; hers is not bridged back when the room reflects it.
    std::ofstream(bobCommands, std::ios::app) << "say hello Matrix\n";
    std::string sender;
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "hello Matrix", &sender); }, 20s));
    CHECK(sender == bobGhost);
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "hi bob, from Matrix"}});
    bob->waitForLine("^MSG alice hi bob, from Matrix$", 20s);
    std::ofstream(bobCommands, std::ios::app) << "say got it\n";
    REQUIRE(hs.waitFor([&] { return env.roomHas(room, "got it"); }, 20s));
    CHECK(env.messageCount(room, "hi bob, from Matrix") == 1);

    // A new topic; someone arriving and leaving.
    std::ofstream(bobCommands, std::ios::app) << "subject Quiet hours\n";
    CHECK(hs.waitFor([&] { return topic() == "Quiet hours"; }, 10s));
    std::filesystem::path daveCommands = env.dir() / "dave.commands";
    auto dave = mucUser(prosody, "dave", roomJid, "dave", daveCommands);
    dave->waitForLine("^JOINED dave$", 20s);
    std::string daveGhost;
    REQUIRE(hs.waitFor([&] { return !(daveGhost = memberLike(hs, room, "dave")).empty(); }, 20s));
    CHECK(hs.waitFor([&] { return hs.members(room)[daveGhost] == "join"; }, 10s));
    std::ofstream(daveCommands, std::ios::app) << "leave\n";
    CHECK(hs.waitFor([&] { return hs.members(room)[daveGhost] == "leave"; }, 20s));

    // Her host dies: the replacement logs her in and joins the chat again, in the same room.
    long pid = env.hostPid();
    REQUIRE(pid > 0);
    REQUIRE(::kill(static_cast<pid_t>(pid), SIGKILL) == 0);
    bob->waitForLine("^PRESENCE alice unavailable$", 30s);
    bob->waitForLine("^PRESENCE alice available$", 40s);
    std::ofstream(bobCommands, std::ios::app) << "say welcome back\n";
    CHECK(hs.waitFor([&] { return env.roomHas(room, "welcome back"); }, 20s));
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "thanks"}});
    bob->waitForLine("^MSG alice thanks$", 20s);
    CHECK(env.chatRoom() == room);  // no second room

    // She leaves the room: her account leaves the chat.
    hs.injectEvent({{"room_id", room}, {"sender", kCarol}, {"type", "m.room.member"}, {"state_key", kCarol},
                    {"content", {{"membership", "leave"}}}});
    bob->waitForLine("^PRESENCE alice unavailable$", 20s);

    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}

TEST_CASE("an XMPP invitation becomes a room inviting the owner; a join the room refuses is told in her DM") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("bob", "bobpw");
    prosody.registerUser("dave", "davepw");
    PurpleBridgeEnv env;
    HomeserverDouble& hs = env.hs();
    INFO(env.bridge().lastLines(80));
    const std::string cafe = std::string("cafe@") + ProsodyFixture::kMucDomain;
    const std::string tea = std::string("tea@") + ProsodyFixture::kMucDomain;
    // Dave holds the nick "alice" in the cafe, so alice's account cannot join it as herself.
    std::filesystem::path daveCommands = env.dir() / "dave.commands";
    auto dave = mucUser(prosody, "dave", cafe, "alice", daveCommands);
    dave->waitForLine("^UNLOCKED$", 20s);

    REQUIRE(env.login("jabber", [&](const std::string& q) { return answerFor(q, prosody); })
                .find("Logged in to jabber") != std::string::npos);
    REQUIRE(env.waitConnected("jabber", 30s));
    CHECK(env.say("!join jabber " + cafe).find("Joining") != std::string::npos);
    const std::string dm = env.dmOf(kCarol);
    REQUIRE(hs.waitFor([&] { return !env.noticesWith(dm, "Could not join " + cafe).empty(); }, 20s));
    CHECK(env.noticesWith(dm, "Could not join " + cafe)[0].find("nickname") != std::string::npos);
    // Another nick gets her in.
    CHECK(env.say("!join jabber " + cafe + "/carol").find("Joining") != std::string::npos);
    dave->waitForLine("^PRESENCE carol available$", 20s);

    // Bob invites her to his room: her account joins, and a room invites her, saying who asked.
    std::filesystem::path bobCommands = env.dir() / "bob.commands";
    auto bob = mucUser(prosody, "bob", tea, "bob", bobCommands);
    bob->waitForLine("^UNLOCKED$", 20s);
    std::ofstream(bobCommands, std::ios::app) << "invite alice@localhost\n";
    bob->waitForLine("^PRESENCE alice available$", 20s);
    std::string room;
    REQUIRE(hs.waitFor([&] {
        for (const auto& r : hs.requests())
            if (r.operationId == "createRoom" && r.status == 200 && r.body.value("name", "") == tea)
                room = r.response.value("room_id", "");
        return !room.empty();
    }, 20s));
    CHECK(hs.members(room)[kCarol] == "invite");
    REQUIRE(hs.waitFor([&] {
        for (const auto& e : hs.timeline(room))
            if (e["content"].value("body", "").find("invited you to " + tea) != std::string::npos) return true;
        return false;
    }, 10s));
    // She declines the room's invitation: her account leaves bob's room.
    hs.injectEvent({{"room_id", room}, {"sender", kCarol}, {"type", "m.room.member"}, {"state_key", kCarol},
                    {"content", {{"membership", "leave"}}}});
    bob->waitForLine("^PRESENCE alice unavailable$", 20s);

    CHECK(hs.specViolations().empty());
    CHECK(env.bridge().terminate(15s) == 0);
}
