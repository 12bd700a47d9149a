// Linking an existing Matrix room to an IRC channel when the requester is not a channel op: the
// bridge bot asks the channel's ops privately on the real ircd, the first op's answer decides,
// silence refuses, admins need nobody's consent, and answers from anyone else change nothing.
#include <doctest/doctest.h>

#include <regex>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

const std::string kAlice = "@alice:hs.test";
const std::string kAdmin = "@root:hs.test";
const std::string kMallory = "@mallory:hs.test";

// The request id the bot's answer names ("... (request abcde) ...").
std::string requestIdIn(const std::string& text) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(R"(request ([a-z0-9]+))")), text);
    return m[1];
}

bool isMessage(const json& e, const std::string& sender, const std::string& body) {
    return e.value("type", "") == "m.room.message" && e.value("sender", "") == sender &&
           e.contains("content") && e["content"].value("body", "") == body;
}

// bob opens #consent (so he is its op); carol joins it as a plain member, and is op of her own
// #carolchan, so "op somewhere" is not mistaken for "op here".
struct Channel {
    LineSocket bob;
    LineSocket carol;
    explicit Channel(IrcBridgeFixture& f) : bob(f.ircUser("bob", "#consent")), carol(f.ircUser("carol", "#carolchan")) {
        carol.writeLine("JOIN #consent");
        carol.readUntil(" 366 ");
    }
};

}  // namespace

TEST_CASE("a non-op's !link asks the channel's ops; other people's answers change nothing; an op's yes links") {
    IrcBridgeFixture f;
    Channel irc(f);
    f.startBridge();
    std::string room = f.hs().createRoom(kAlice, {{"preset", "public_chat"}});
    std::string dm = f.openBotDm(kAlice);

    std::string asked = f.command(dm, kAlice, "!link " + room + " #consent");
    CHECK_MESSAGE(asked.find("Asked the ops of #consent") != std::string::npos, asked);
    std::string id = requestIdIn(asked);
    // Only the op is asked, privately, with who asks for which room.
    std::string question = irc.bob.readUntil(R"(^:bridgebot!\S+ PRIVMSG bob :)", 15s);
    CHECK(question.find(kAlice) != std::string::npos);
    CHECK(question.find(room) != std::string::npos);
    CHECK(question.find("yes " + id) != std::string::npos);

    // carol is no op of #consent (only of #carolchan); bob names a request that is not waiting.
    irc.carol.writeLine("PRIVMSG bridgebot :yes " + id);
    irc.carol.readUntil(R"(NOTICE carol :Only ops of #consent can answer)", 10s);
    irc.bob.writeLine("PRIVMSG bridgebot :yes zzzzz");
    irc.bob.readUntil(R"(NOTICE bob :No link request "zzzzz" is waiting)", 10s);
    irc.bob.writeLine("PRIVMSG bridgebot :yes " + id + " and more");  // not an answer at all
    CHECK(f.botNoticeCount(dm) == 1);  // alice heard nothing new
    CHECK(f.hs().members(room).count(f.botId()) == 0);  // and nothing was linked

    std::size_t seen = f.botNoticeCount(dm);
    irc.bob.writeLine("PRIVMSG bridgebot :YES " + id);
    irc.bob.readUntil(R"(NOTICE bob :#consent is now bridged)", 10s);
    std::string approved = f.nextBotNotice(dm, seen);
    CHECK_MESSAGE(approved.find("bob, an op of #consent, approved") != std::string::npos, approved);
    // The room is a portal now: the channel's people arrive and their words too.
    CHECK(f.hs().waitFor([&] { return f.hs().members(room)[f.ghost("bob")] == "join"; }, 15s));
    irc.carol.writeLine("PRIVMSG #consent :hello linked room");
    f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("carol"), "hello linked room"); });
    // A late answer to the finished request changes nothing either.
    irc.bob.writeLine("PRIVMSG bridgebot :no " + id);
    irc.bob.readUntil(R"(NOTICE bob :No link request)", 10s);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("an op's no refuses, silence times out, and an admin links without asking") {
    IrcBridgeOptions options;
    options.extraNetworkLines = {"link_consent_timeout_seconds: 2"};
    options.admins = {kAdmin};
    IrcBridgeFixture f(options);
    Channel irc(f);
    f.startBridge();
    std::string room = f.hs().createRoom(kAlice, {{"preset", "public_chat"}});
    std::string dm = f.openBotDm(kAlice);

    std::string id = requestIdIn(f.command(dm, kAlice, "!link " + room + " #consent"));
    irc.bob.readUntil("PRIVMSG bob :.*yes " + id, 15s);
    std::size_t seen = f.botNoticeCount(dm);
    irc.bob.writeLine("PRIVMSG bridgebot :no " + id);
    std::string refused = f.nextBotNotice(dm, seen);
    CHECK_MESSAGE(refused.find("bob, an op of #consent, refused") != std::string::npos, refused);

    std::string again = requestIdIn(f.command(dm, kAlice, "!link " + room + " #consent"));
    CHECK(again != id);
    irc.bob.readUntil("PRIVMSG bob :.*yes " + again, 15s);
    seen = f.botNoticeCount(dm);
    std::string expired = f.nextBotNotice(dm, seen, 10s);
    CHECK_MESSAGE(expired.find("No op of #consent answered within 2 s") != std::string::npos, expired);
    irc.bob.readUntil("NOTICE bob :Request " + again + " expired", 5s);
    CHECK(f.hs().members(room).count(f.botId()) == 0);

    std::string adminRoom = f.hs().createRoom(kAdmin, {{"preset", "public_chat"}});
    std::string adminDm = f.openBotDm(kAdmin);
    std::string linked = f.command(adminDm, kAdmin, "!link " + adminRoom + " #consent");
    CHECK_MESSAGE(linked.find("Linked " + adminRoom + " to #consent") != std::string::npos, linked);
    irc.carol.writeLine("PRIVMSG #consent :for the admin's room");
    f.waitForEvent(adminRoom, [&](const json& e) { return isMessage(e, f.ghost("carol"), "for the admin's room"); });
}

TEST_CASE("provisioning asks the ops too (202), and the approved link keeps its relay option") {
    IrcBridgeOptions options;
    options.provisioning = true;
    IrcBridgeFixture f(options);
    Channel irc(f);
    f.startBridge();
    std::string room = f.hs().createRoom(kAlice, {{"preset", "public_chat"}});
    f.hs().forceJoin(room, f.botId());  // the bot reads the power levels as a member
    json body{{"room_id", room}, {"remote_room", "test/#consent"}, {"user_id", kAlice}, {"options", {{"relay", true}}}};
    HttpCallResult pending = httpCall(f.bridgeUrl(), "POST", "/_mxbridge/provision/v1/link",
                                      {{"Authorization", std::string("Bearer ") + kProvisioningSecret},
                                       {"Content-Type", "application/json"}},
                                      body.dump(), 10s);
    REQUIRE_MESSAGE(pending.status == 202, pending.body);
    std::string id = requestIdIn(json::parse(pending.body).value("message", ""));
    irc.bob.readUntil("PRIVMSG bob :.*yes " + id, 15s);
    irc.bob.writeLine("PRIVMSG bridgebot :yes " + id);
    std::string told = f.nextBotNotice(room, 0);
    CHECK_MESSAGE(told.find(kAlice + ": bob, an op of #consent, approved") != std::string::npos, told);
    // Relay per link: alice has no puppet here, the bot speaks for her.
    f.hs().forceJoin(room, kAlice);
    f.say(room, kAlice, "relayed by link option");
    irc.bob.readUntil(R"(^:bridgebot!\S+ PRIVMSG #consent :<alice> relayed by link option$)", 15s);
}

TEST_CASE("!link is refused to a room member without the power to change its state") {
    // The IRC side's consent is not enough: the Matrix room's own moderators decide too.
    IrcBridgeFixture f;
    Channel irc(f);
    f.startBridge();
    std::string room = f.hs().createRoom(kAlice, {{"preset", "public_chat"}});
    f.hs().forceJoin(room, kMallory);
    std::string dm = f.openBotDm(kMallory);
    std::string refused = f.command(dm, kMallory, "!link " + room + " #consent");
    CHECK_MESSAGE(refused.find("!link refused: " + kMallory + " has power level 0 in " + room +
                               "; managing its bridges needs 50") != std::string::npos,
                  refused);
    CHECK(f.hs().members(room).count(f.botId()) == 0);
    CHECK(f.hs().specViolations().empty());
}
