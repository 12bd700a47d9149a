// The IRC connector's pure rules: ids, aliases, templates, modes, net-splits, text.
#include <doctest/doctest.h>

#include "mapping.h"
#include "mxbridge/irc/message.h"

using namespace mxbridge;
using namespace mxbridge::irc;

TEST_CASE("channel and direct room ids are folded and parse back") {
    CHECK(channelRoomId("libera", "#Matrix[x]").str() == "libera/#matrix{x}");
    auto t = parseRemoteRoom(RemoteRoomId("libera/#matrix"));
    REQUIRE(t);
    CHECK(t->network == "libera");
    CHECK(t->channel == "#matrix");
    CHECK(t->isChannel());
    RemoteRoomId dm = directRoomId("oftc", "Bob", UserId("@alice:hs.test"));
    CHECK(dm.str() == "oftc/bob/@alice:hs.test");
    auto d = parseRemoteRoom(dm);
    REQUIRE(d);
    CHECK_FALSE(d->isChannel());
    CHECK(d->nick == "bob");
    CHECK(d->matrixUser.str() == "@alice:hs.test");
    CHECK(d->ircTarget() == "bob");
    CHECK_FALSE(parseRemoteRoom(RemoteRoomId("nonetwork")));
    CHECK_FALSE(parseRemoteRoom(RemoteRoomId("libera/bob/notauser")));
    CHECK_FALSE(parseRemoteRoom(RemoteRoomId("/#x")));
}

TEST_CASE("ghost ids: bare on the default network, prefixed elsewhere, never colliding") {
    std::vector<std::string> nets{"libera", "oftc"};
    CHECK(ghostIdFor("libera", "Alice", true) == "alice");
    CHECK(ghostIdFor("oftc", "Alice", false) == "oftc.alice");
    // A nick that looks like a network prefix stays on the default network.
    CHECK(ghostIdFor("libera", "oftc_bob", true) != ghostIdFor("oftc", "bob", false));
    auto g = parseGhostId("oftc.bob", nets, "libera");
    REQUIRE(g);
    CHECK(g->network == "oftc");
    CHECK(g->nick == "bob");
    auto d = parseGhostId("bob", nets, "libera");
    REQUIRE(d);
    CHECK(d->network == "libera");
    CHECK_FALSE(parseGhostId("nowhere.bob", nets, "libera"));
}

TEST_CASE("alias ids and their parsing under any template") {
    std::vector<std::string> nets{"libera", "oftc"};
    CHECK(aliasIdFor("libera", "#Test", true) == "#test");
    CHECK(aliasIdFor("oftc", "#test", false) == "oftc_#test");
    auto a = parseAliasLocalpart("irc_#test", nets, "libera");
    REQUIRE(a);
    CHECK(a->network == "libera");
    CHECK(a->channel == "#test");
    auto b = parseAliasLocalpart("irc_oftc_#Chan", nets, "libera");
    REQUIRE(b);
    CHECK(b->network == "oftc");
    CHECK(b->channel == "#chan");
    auto c = parseAliasLocalpart("oftc_#x", nets, "libera");  // template "{id}"
    REQUIRE(c);
    CHECK(c->network == "oftc");
    auto d = parseAliasLocalpart("irc_xoftc_#x", nets, "libera");  // not a network boundary
    REQUIRE(d);
    CHECK(d->network == "libera");
    CHECK_FALSE(parseAliasLocalpart("irc_nochannel", nets, "libera"));
    CHECK_FALSE(parseAliasLocalpart("irc_#", nets, "libera"));
    CHECK_FALSE(parseAliasLocalpart("irc_#a,b", nets, "libera"));
}

TEST_CASE("username and realname templates") {
    CHECK(usernameFor("{localpart}", "Alice.Smith") == "alicesmith");
    CHECK(usernameFor("{localpart}", "averyveryverylongname") == "averyveryv");
    CHECK(usernameFor("{localpart}", "___") == "user");
    CHECK(usernameFor("{localpart}", "42bob") == "u42bob");
    CHECK(fillTemplate("{displayname} (Matrix) {localpart}", "al", "Alice") == "Alice (Matrix) al");
}

TEST_CASE("mode changes take arguments by PREFIX and CHANMODES") {
    ISupport is;
    auto changes = parseModeChanges("+ov-b+l-l+k", {"alice", "bob", "*!*@x", "10", "secret"}, is);
    REQUIRE(changes.size() == 6);
    CHECK(changes[0].mode == 'o');
    CHECK(changes[0].add);
    CHECK(changes[0].arg == "alice");
    CHECK(changes[1].arg == "bob");
    CHECK(changes[2].mode == 'b');
    CHECK_FALSE(changes[2].add);
    CHECK(changes[2].arg == "*!*@x");
    CHECK(changes[3].arg == "10");      // +l takes an argument when set
    CHECK(changes[4].arg.empty());      // -l does not
    CHECK(changes[5].arg == "secret");  // +k always
}

TEST_CASE("modes to power levels: the highest wins") {
    std::map<char, int> table{{'o', 50}, {'v', 10}, {'q', 100}};
    CHECK(powerForModes({}, table) == 0);
    CHECK(powerForModes({'v'}, table) == 10);
    CHECK(powerForModes({'v', 'o'}, table) == 50);
    CHECK(powerForModes({'x'}, table) == 0);
    ISupport is;
    auto [nick, modes] = parseNamesEntry("@+alice!a@host", is);
    CHECK(nick == "alice");
    CHECK(modes == std::set<char>{'o', 'v'});
    CHECK(parseNamesEntry("bob", is).second.empty());
}

TEST_CASE("net-split quits are held back and cancelled by a rejoin") {
    CHECK(isNetsplitQuit("irc.a.net irc.b.net"));
    CHECK_FALSE(isNetsplitQuit("Quit: bye"));
    CHECK_FALSE(isNetsplitQuit("irc.a.net"));
    CHECK_FALSE(isNetsplitQuit("see you at irc.b.net"));
    using Clock = NetsplitTracker::Clock;
    NetsplitTracker t(std::chrono::seconds(30));
    auto now = Clock::now();
    t.quit("bob", {"#a", "#b"}, now);
    t.quit("carol", {"#a"}, now);
    CHECK(t.rejoined("bob", "#a"));
    CHECK_FALSE(t.rejoined("bob", "#a"));
    CHECK_FALSE(t.rejoined("dave", "#a"));
    CHECK(t.expired(now + std::chrono::seconds(10)).empty());
    auto gone = t.expired(now + std::chrono::seconds(31));
    REQUIRE(gone.size() == 2);
    CHECK(gone[0].first == "bob");
    CHECK(gone[0].second == std::set<std::string>{"#b"});
    CHECK(t.held() == 0);
}

TEST_CASE("pills become nicks, mentions become pills") {
    auto nickFor = [](const std::string& u) -> std::optional<std::string> {
        if (u == "@irc_bob:hs") return std::string("bob");
        return std::nullopt;
    };
    CHECK(replacePills("<a href=\"https://matrix.to/#/@irc_bob:hs\">Bob (IRC)</a>: hi", nickFor) == "bob: hi");
    CHECK(replacePills("<a href=\"https://matrix.to/#/%40irc_bob%3Ahs\">x</a>", nickFor) == "bob");
    CHECK(replacePills("<a href=\"https://matrix.to/#/@carol:hs\">Carol</a>", nickFor) == "Carol");
    std::map<std::string, std::string> users{{"alice[m]", "@alice:hs"}, {"bob", "@irc_bob:hs"}};
    CHECK(linkMentions("alice[m]: hello", users) ==
          "<a href=\"https://matrix.to/#/@alice:hs\">alice[m]</a>: hello");
    // Attribute values and existing links are left alone.
    CHECK(linkMentions("<font data-mx-color=\"bob\">hi</font>", users) == "<font data-mx-color=\"bob\">hi</font>");
    CHECK(linkMentions("<a href=\"x\">bob</a>", users) == "<a href=\"x\">bob</a>");
    CHECK(linkMentions("bobby", users) == "bobby");
}

TEST_CASE("relay prefixes, media links and condensed replies") {
    CHECK(relayPrefix("Alice", false) == "<Alice> ");
    CHECK(relayPrefix("Alice", true) == "* Alice ");
    CHECK(relayPrefix("A\r\nPRIVMSG #x :pwn", false) == "<APRIVMSG #x :pwn> ");
    CHECK(mediaLink("mxc://hs/abc", nullptr, "") == "mxc://hs/abc");
    CHECK(mediaLink("mxc://hs/abc", nullptr, "https://hs.example/") ==
          "https://hs.example/_matrix/media/v3/download/hs/abc");
    CHECK(condenseLines("one\ntwo\r\n\nthree") == "one two three");
}

TEST_CASE("an mxc URI that is not server name and media id is shown as sent, never turned into another link") {
    const std::string base = "https://hs.example";
    for (const char* hostile : {"mxc://hs/../../_matrix/client/v3/account", "mxc://hs/abc?access_token=x",
                                "mxc://hs/abc#frag", "mxc://hs/", "mxc:///abc", "mxc://bad host/abc",
                                "mxc://hs/a%2Fb"}) {
        INFO(hostile);
        CHECK(mediaLink(hostile, nullptr, base) == hostile);
    }
    CHECK(mediaLink("mxc://hs.example:8448/AbC_12-x", nullptr, base) ==
          "https://hs.example/_matrix/media/v3/download/hs.example:8448/AbC_12-x");
}

namespace {
struct PrefixLinks final : MediaLinks {
    std::optional<std::string> publicUrl(std::string_view mxc, std::string_view name) const override {
        if (!isValidMxcUri(mxc)) return std::nullopt;
        return "https://bridge.example/_mxbridge/media/t/" + std::string(name);
    }
};
}  // namespace

TEST_CASE("with media links enabled, IRC users get the bridge's link, not a /_matrix/ download path") {
    PrefixLinks links;
    CHECK(mediaLink("mxc://hs/abc", &links, "https://hs.example", "cat.png") ==
          "https://bridge.example/_mxbridge/media/t/cat.png");
    // A text that is not an mxc URI gets no link from either.
    CHECK(mediaLink("mxc://hs/../x", &links, "https://hs.example") == "mxc://hs/../x");
}

TEST_CASE("hostile Matrix text cannot inject IRC commands") {
    std::string evil = relayPrefix("x\r\nQUIT :bye", false) + "hi\r\nKICK #c bob";
    IrcMessage m = build::privmsg("#c", evil);
    std::string wire = m.serialize();
    CHECK(wire.find('\r') == std::string::npos);
    CHECK(wire.find('\n') == std::string::npos);
    CHECK(wire.rfind("PRIVMSG #c :", 0) == 0);
}

TEST_CASE("an op's link answer is \"yes <id>\" or \"no <id>\" and nothing else") {
    auto yes = parseConsentAnswer("  YES Ab3de ");
    REQUIRE(yes);
    CHECK(yes->approve);
    CHECK(yes->id == "ab3de");
    auto no = parseConsentAnswer("no\tk7q2x");
    REQUIRE(no);
    CHECK_FALSE(no->approve);
    CHECK(no->id == "k7q2x");
    CHECK_FALSE(parseConsentAnswer("yes"));
    CHECK_FALSE(parseConsentAnswer("yes ab3de please"));
    CHECK_FALSE(parseConsentAnswer("maybe ab3de"));
    CHECK_FALSE(parseConsentAnswer("yes ab3de\r\nQUIT"));
    CHECK_FALSE(parseConsentAnswer("yes a-b"));
    CHECK_FALSE(parseConsentAnswer("yes " + std::string(17, 'a')));
    CHECK_FALSE(parseConsentAnswer(""));
}

TEST_CASE("request ids avoid look-alike characters") {
    uint32_t n = 0;
    std::string id = consentId([&] { return n++; }, 40);
    CHECK(id.size() == 40);
    CHECK(id.find_first_of("01ilo") == std::string::npos);
    CHECK(consentId([] { return 0u; }) == "aaaaa");
}

TEST_CASE("room ids safe for an IRC line") {
    CHECK(isValidRoomId("!abc:hs.test"));
    CHECK_FALSE(isValidRoomId("#alias:hs.test"));
    CHECK_FALSE(isValidRoomId("!abc"));
    CHECK_FALSE(isValidRoomId("!:hs"));
    CHECK_FALSE(isValidRoomId("!abc:hs\r\nQUIT"));
    CHECK_FALSE(isValidRoomId("!a b:hs"));
    CHECK_FALSE(isValidRoomId("!abc:" + std::string(260, 'x')));
}

TEST_CASE("remote message ids name their author, and Matrix-sent ones say so") {
    CHECK(remoteAuthorNick(RemoteMessageId("libera/bob/1234-1")) == "bob");
    CHECK(remoteAuthorNick(RemoteMessageId("libera/alice[m]/m:$ev:hs")) == "alice[m]");
    CHECK(remoteAuthorNick(RemoteMessageId("nonsense")).empty());
    CHECK(isMatrixSentId(RemoteMessageId("libera/alice[m]/m:$ev:hs")));
    CHECK_FALSE(isMatrixSentId(RemoteMessageId("libera/bob/m")));
    CHECK_FALSE(isMatrixSentId(RemoteMessageId("libera/bob/abc")));
}

TEST_CASE("reactions become one short action line") {
    CHECK(reactionAction("👍", "bob") == "reacted 👍 to bob");
    CHECK(reactionAction("ok", "") == "reacted ok");
    CHECK(reactionAction("a\r\nQUIT :x", "bob") == "reacted a QUIT :x to bob");
    std::string longKey(63, 'x');
    longKey += "é";  // two bytes across the 64-byte cut
    CHECK(reactionAction(longKey, "") == "reacted " + std::string(63, 'x') + "…");
}
