// The IRC bridge end to end: Matrix users through puppets (or the relay bot) on a real ircd,
// IRC users as ghosts in the homeserver double, all against the real binary. The fixture's
// ircd keeps #test as a permanent channel (nobody is op there); cases needing an op use their own.
#include <doctest/doctest.h>

#include <regex>
#include <thread>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

const std::string kAlice = "@alice:hs.test";
const std::string kDave = "@dave:hs.test";

bool isMessage(const json& e, const std::string& sender, const std::string& body) {
    return e.value("type", "") == "m.room.message" && e.value("sender", "") == sender &&
           e.contains("content") && e["content"].value("body", "") == body;
}

std::string membership(HomeserverDouble& hs, const std::string& room, const std::string& user) {
    auto m = hs.members(room);
    auto it = m.find(user);
    return it == m.end() ? "" : it->second;
}

// The direct chat the bridge created for `user`, if any.
std::optional<std::string> directRoomOf(HomeserverDouble& hs, const std::string& user) {
    for (const auto& r : hs.requests()) {
        if (r.operationId != "createRoom" || r.status != 200 || !r.body.is_object()) continue;
        if (!r.body.value("is_direct", false)) continue;
        if (!r.body.contains("invite")) continue;
        for (const auto& i : r.body["invite"])
            if (i == user) return r.response.value("room_id", "");
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("a Matrix user talks in #irc_#test and an IRC user answers, in order and formatted") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");

    f.say(room, kAlice, "hello from matrix");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #test :hello from matrix$)", 20s);

    bob.writeLine("PRIVMSG #test :\x02hi\x02 alice[m]");
    bob.writeLine("PRIVMSG #test :two");
    bob.writeLine("PRIVMSG #test :three");
    json hi = f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("bob"), "hi alice[m]"); });
    std::string html = hi["content"].value("formatted_body", "");
    CHECK(html.find("hi</") != std::string::npos);
    CHECK(html.find("https://matrix.to/#/" + kAlice) != std::string::npos);
    f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("bob"), "three"); });
    // Order: hi, two, three; and the puppet's own line was not bridged back.
    std::vector<std::string> bodies;
    for (const auto& e : f.hs().timeline(room))
        if (e.value("type", "") == "m.room.message") bodies.push_back(e["content"].value("body", ""));
    std::vector<std::string> expected{"hello from matrix", "hi alice[m]", "two", "three"};
    CHECK(bodies == expected);
    CHECK(f.hs().profile(f.ghost("bob")).displayname.value_or("") == "bob");
    // Operators see the bot's and alice's puppet's connections in the metrics.
    HttpCallResult metrics = httpCall(f.bridgeUrl(), "GET", "/metrics", {}, "", 5s);
    REQUIRE(metrics.status == 200);
    std::smatch connected;
    REQUIRE(std::regex_search(metrics.body, connected,
                              std::regex(R"(mxbridge_remote_connections\{[^}]*state="connected"[^}]*\} (\d+))")));
    CHECK(std::stoi(connected[1]) >= 2);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("emotes, notices, long messages and edits reach IRC condensed") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");
    f.say(room, kAlice, "waves", "m.emote");
    bob.readUntil("PRIVMSG #test :\x01" "ACTION waves\x01", 20s);
    f.say(room, kAlice, "fyi", "m.notice");
    bob.readUntil(R"(NOTICE #test :fyi)");
    std::string original = f.say(room, kAlice, "teh typo");
    bob.readUntil("PRIVMSG #test :teh typo");
    for (const char* text : {"the typ", "the typo"})
        f.hs().sendAsUser(room, kAlice,
                          {{"msgtype", "m.text"}, {"body", std::string("* ") + text},
                           {"m.new_content", {{"msgtype", "m.text"}, {"body", text}}},
                           {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", original}}}});
    std::string line = bob.readUntil("PRIVMSG #test :\\* the typ", 10s);
    CHECK(line.find("* the typo") != std::string::npos);  // only the last edit, debounced
    // More lines than max_lines_before_paste (4): one line with a link.
    f.say(room, kAlice, "l1\nl2\nl3\nl4\nl5\nl6");
    bob.readUntil(R"(PRIVMSG #test :l1 .*6 lines: (mxc|http)\S+)", 20s);
}

TEST_CASE("joins, nick changes, kicks, topics and ops are mirrored") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircd().connectClient("bob");
    // Not #test: the fixture's ircd keeps #test as a permanent channel (permchannels), so its
    // first joiner is not opped. A fresh channel makes bob its op.
    bob.writeLine("JOIN #mirror");
    bob.readUntil("366");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#mirror");
    auto& hs = f.hs();
    CHECK(hs.waitFor([&] { return membership(hs, room, f.ghost("bob")) == "join"; }, 15s));
    CHECK(hs.waitFor([&] {
        auto pl = hs.stateContent(room, "m.room.power_levels");
        return pl && (*pl)["users"].value(f.ghost("bob"), 0) == 50;
    }, 15s));

    LineSocket carol = f.ircUser("carol", "#mirror");
    CHECK(hs.waitFor([&] { return membership(hs, room, f.ghost("carol")) == "join"; }, 15s));
    bob.writeLine("MODE #mirror +v carol");
    CHECK(hs.waitFor([&] {
        auto pl = hs.stateContent(room, "m.room.power_levels");
        return pl && (*pl)["users"].value(f.ghost("carol"), 0) == 10;
    }, 15s));
    bob.writeLine("TOPIC #mirror :the new topic");
    CHECK(hs.waitFor([&] {
        auto t = hs.stateContent(room, "m.room.topic");
        return t && t->value("topic", "") == "the new topic";
    }, 15s));
    carol.writeLine("NICK carol2");
    CHECK(hs.waitFor([&] { return membership(hs, room, f.ghost("carol")) == "leave" &&
                                  membership(hs, room, f.ghost("carol2")) == "join"; }, 15s));
    bob.writeLine("KICK #mirror carol2 :bye");
    CHECK(hs.waitFor([&] { return membership(hs, room, f.ghost("carol2")) == "leave"; }, 15s));
    // The topic and the kick come from bob's ghost, not the bridge bot.
    json topic = f.waitForEvent(room, [](const json& e) {
        return e.value("type", "") == "m.room.topic" && e["content"].value("topic", "") == "the new topic";
    });
    CHECK(topic.value("sender", "") == f.ghost("bob"));
    json kick = f.waitForEvent(room, [&](const json& e) {
        return e.value("type", "") == "m.room.member" && e.value("state_key", "") == f.ghost("carol2") &&
               e["content"].value("membership", "") == "leave";
    });
    CHECK(kick.value("sender", "") == f.ghost("bob"));
    CHECK(kick["content"].value("reason", "") == "bye");
    // Parts and quits (not net-splits: the ircd says "Quit: ...") leave with their reason.
    LineSocket dave = f.ircUser("dave", "#mirror");
    LineSocket erin = f.ircUser("erin", "#mirror");
    CHECK(hs.waitFor([&] { return membership(hs, room, f.ghost("erin")) == "join"; }, 15s));
    dave.writeLine("PART #mirror :off to lunch");
    erin.writeLine("QUIT :good night");
    auto leftWith = [&](const std::string& nick, const std::string& reason) {
        return f.waitForEvent(room, [&](const json& e) {
            return e.value("type", "") == "m.room.member" && e.value("state_key", "") == f.ghost(nick) &&
                   e["content"].value("membership", "") == "leave" &&
                   e["content"].value("reason", "").find(reason) != std::string::npos;
        });
    };
    leftWith("dave", "off to lunch");
    leftWith("erin", "good night");
}

TEST_CASE("private messages become a direct chat with the ghost, both ways") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");
    f.say(room, kAlice, "ping me");  // connects alice's puppet
    bob.readUntil("PRIVMSG #test :ping me", 20s);
    bob.writeLine("PRIVMSG alice[m] :psst");
    std::string dm;
    REQUIRE(f.hs().waitFor([&] {
        auto r = directRoomOf(f.hs(), kAlice);
        if (r) dm = *r;
        return r.has_value();
    }, 15s));
    f.waitForEvent(dm, [&](const json& e) { return isMessage(e, f.ghost("bob"), "psst"); });
    // bob's ghost made the chat and invited alice: clients list it as a chat with bob, and
    // the bot is not in it.
    json invite = f.waitForEvent(dm, [&](const json& e) {
        return e.value("type", "") == "m.room.member" && e.value("state_key", "") == kAlice;
    });
    CHECK(invite.value("sender", "") == f.ghost("bob"));
    CHECK(invite["content"].value("is_direct", false));
    CHECK(membership(f.hs(), dm, f.botId()) == "");
    f.hs().forceJoin(dm, kAlice);
    f.say(dm, kAlice, "hi back");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG bob :hi back$)", 15s);
    CHECK(membership(f.hs(), dm, f.botId()) == "");
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("relay mode speaks for every Matrix user through the bot") {
    IrcBridgeOptions options;
    options.relay = true;
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");
    f.say(room, kAlice, "relayed");
    bob.readUntil(R"(^:bridgebot!\S+ PRIVMSG #test :<alice> relayed$)", 20s);
}

TEST_CASE("the ircd restarts: every puppet comes back, rejoins, and queued lines arrive in order") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");
    f.joinPortal(kDave, "#test");
    f.say(room, kAlice, "a1");
    f.say(room, kDave, "d1");
    bob.readUntil("PRIVMSG #test :d1", 20s);

    f.ircd().restart();
    f.say(room, kAlice, "while down 1");
    f.say(room, kAlice, "while down 2");
    LineSocket bob2 = f.ircUser("bob", "#test");
    std::string first = bob2.readUntil(R"(PRIVMSG #test :while down)", 60s);
    CHECK(first.find("while down 1") != std::string::npos);
    bob2.readUntil(R"(PRIVMSG #test :while down 2)", 10s);
    for (int i = 0; i < 60; ++i) {
        bob2.writeLine("NAMES #test");
        std::string names = bob2.readUntil(" 353 ", 5s);
        if (names.find("alice[m]") != std::string::npos && names.find("dave[m]") != std::string::npos &&
            names.find("bridgebot") != std::string::npos)
            return;
        std::this_thread::sleep_for(1s);
    }
    FAIL("not every puppet rejoined #test after the restart");
}

TEST_CASE("hostile IRC lines and Matrix bodies change nothing") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");
    // Matrix -> IRC: a body trying to smuggle commands stays text in one channel.
    f.say(room, kAlice, "x\r\nQUIT :pwned\r\nPRIVMSG bob :owned");
    bob.readUntil(R"(PRIVMSG #test :x)", 20s);
    // The smuggled lines, if sent at all, are channel text from the puppet, not commands.
    std::string smuggled = bob.readUntil("owned", 10s);
    CHECK(smuggled.find("PRIVMSG #test :") != std::string::npos);
    // IRC -> Matrix: markup and control codes arrive as text, never as HTML.
    bob.writeLine("PRIVMSG #test :<script>alert(1)</script> \x03" "99,99\x16\x0f\x01" "ACTION");
    bob.writeLine("PRIVMSG #test :done");
    f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("bob"), "done"); });
    bool scriptAsText = false;
    for (const auto& e : f.hs().timeline(room)) {
        if (e.value("type", "") == "m.room.message" && e.value("sender", "") == f.ghost("bob") &&
            e["content"].value("body", "").starts_with("<script>alert(1)</script>"))
            scriptAsText = true;
        std::string html = e.contains("content") ? e["content"].value("formatted_body", "") : "";
        CHECK(html.find("<script>") == std::string::npos);
    }
    CHECK(scriptAsText);
    // The puppet is still there and nobody quit.
    bob.writeLine("NAMES #test");
    std::string names = bob.readUntil(" 353 ", 5s);
    CHECK(names.find("alice[m]") != std::string::npos);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("a Matrix topic reaches IRC through the puppet; a refusal and a kick of the puppet are told in the room") {
    IrcBridgeFixture f;
    LineSocket bob = f.ircUser("bob", "#topics");
    bob.writeLine("MODE #topics +t");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#topics");
    f.say(room, kAlice, "here");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #topics :here$)", 20s);
    auto setState = [&](const std::string& type, const json& content) {
        f.hs().injectEvent({{"room_id", room}, {"sender", kAlice}, {"type", type}, {"state_key", ""},
                            {"content", content}});
    };

    // +t and alice[m] is no op: the ircd refuses, and alice is told in the room.
    std::size_t seen = f.botNoticeCount(room);
    setState("m.room.topic", {{"topic", "refused topic"}});
    std::string refused = f.nextBotNotice(room, seen);
    CHECK_MESSAGE(refused.find(kAlice + ": your topic change was not applied on IRC") != std::string::npos, refused);

    // As an op, her topic is the channel's, and it does not come back to Matrix as a new event.
    bob.writeLine("MODE #topics +o alice[m]");
    bob.readUntil(R"(MODE #topics \+o :?alice\[m\])");
    setState("m.room.name", {{"name", "IRC channels have no name"}});
    setState("m.room.topic", {{"topic", "from matrix\nsecond line"}});
    bob.readUntil(R"(^:alice\[m\]!\S+ TOPIC #topics :from matrix second line$)", 15s);
    bob.writeLine("PRIVMSG #topics :after the topic");
    f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("bob"), "after the topic"); });
    int topicEvents = 0;
    for (const auto& e : f.hs().timeline(room))
        if (e.value("type", "") == "m.room.topic" && e.value("sender", "") != kAlice &&
            e["content"].value("topic", "").find("from matrix") != std::string::npos)
            ++topicEvents;
    CHECK(topicEvents == 0);
    CHECK(f.botNoticeCount(room) == seen + 1);  // the name change is Matrix-only, silently

    bob.writeLine("KICK #topics alice[m] :not today");
    std::string kicked = f.nextBotNotice(room, seen + 1);
    CHECK_MESSAGE(kicked.find(kAlice + " was kicked from #topics on IRC by bob: not today") != std::string::npos, kicked);
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("reactions go to IRC as actions when configured; deleting a bridged message is explained, not bridged") {
    IrcBridgeOptions options;
    options.extraNetworkLines = {"reactions_as_actions: true"};
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#react");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#react");
    std::string mine = f.say(room, kAlice, "mine");
    bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #react :mine$)", 20s);
    // The homeserver answers the ghost's send only after Alice has seen the message and
    // reacted to it: her reaction still finds the IRC message it is about.
    f.hs().setAnswerDelay("sendMessage", 1500ms);
    bob.writeLine("PRIVMSG #react :yours");
    json yours = f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("bob"), "yours"); });

    f.hs().sendAsUser(room, kAlice,
                      {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", yours["event_id"]}, {"key", "👍"}}}},
                      "m.reaction");
    bob.readUntil("^:alice\\[m\\]!\\S+ PRIVMSG #react :\x01" "ACTION reacted 👍 to bob\x01$", 10s);
    f.hs().setAnswerDelay("sendMessage", 0ms);
    // Her own bridged message is mapped too, and its author spelled as on IRC (not folded).
    f.hs().sendAsUser(room, kAlice, {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", mine}, {"key", "ok"}}}},
                      "m.reaction");
    bob.readUntil("^:alice\\[m\\]!\\S+ PRIVMSG #react :\x01" "ACTION reacted ok to alice\\[m\\]\x01$", 10s);

    std::size_t seen = f.botNoticeCount(room);
    f.hs().sendAsUser(room, kAlice, {{"redacts", mine}}, "m.room.redaction");  // her own, seen on IRC
    std::string told = f.nextBotNotice(room, seen);
    CHECK_MESSAGE(told.find("deleted on Matrix only") != std::string::npos, told);
    f.hs().sendAsUser(room, kAlice, {{"redacts", yours["event_id"]}}, "m.room.redaction");  // moderation
    bob.writeLine("PRIVMSG #react :still here");
    f.waitForEvent(room, [&](const json& e) { return isMessage(e, f.ghost("bob"), "still here"); });
    CHECK(f.botNoticeCount(room) == seen + 1);
}
