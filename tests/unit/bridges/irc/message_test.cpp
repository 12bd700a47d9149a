// IrcMessage parsing, serializing and the command builders, with hostile input throughout.
#include "mxbridge/irc/message.h"

#include <doctest/doctest.h>

#include <string>

using namespace mxbridge::irc;

namespace {

bool hasLineBreakOrNul(const std::string& s) {
    return s.find_first_of(std::string("\r\n\0", 3)) != std::string::npos;
}

// The line a server would see, parsed back: what an injection would have to survive.
IrcMessage reparse(const IrcMessage& m) {
    auto back = IrcMessage::parse(m.serialize());
    REQUIRE(back.has_value());
    return *back;
}

const std::string kHostile = std::string("hi\r\nQUIT :pwned\r\n\0PRIVMSG #x :y", 32);

}  // namespace

TEST_CASE("a full line with tags, source, params and trailing is split into its parts") {
    auto m = IrcMessage::parse(
        "@time=2020-01-01T00:00:00.000Z;+draft/reply=abc :nick!user@host PRIVMSG #chan :hello "
        "there\r\n");
    REQUIRE(m);
    CHECK(m->tags.at("time") == "2020-01-01T00:00:00.000Z");
    CHECK(m->tags.at("+draft/reply") == "abc");
    CHECK(m->source == "nick!user@host");
    CHECK(m->command == "PRIVMSG");
    REQUIRE(m->params.size() == 2);
    CHECK(m->params[0] == "#chan");
    CHECK(m->params[1] == "hello there");
    CHECK(m->lastIsTrailing);
    CHECK_FALSE(m->bodyOverLimit);
}

TEST_CASE("the source splits into nick, user and host, and a server name is recognised") {
    auto s = Source::parse("alice!~al@example.org");
    CHECK(s.nick == "alice");
    CHECK(s.user == "~al");
    CHECK(s.host == "example.org");
    CHECK_FALSE(s.isServer());
    auto server = Source::parse("irc.example.org");
    CHECK(server.nick == "irc.example.org");
    CHECK(server.isServer());
    auto noUser = Source::parse("bob@host");
    CHECK(noUser.nick == "bob");
    CHECK(noUser.host == "host");
    CHECK(noUser.user.empty());
}

TEST_CASE("commands are upper-cased and numerics stay three digits") {
    CHECK(IrcMessage::parse("privmsg #a :b")->command == "PRIVMSG");
    auto n = IrcMessage::parse(":srv 001 me :Welcome");
    REQUIRE(n);
    CHECK(n->command == "001");
    CHECK(n->isNumeric());
    CHECK_FALSE(IrcMessage::parse("01 x"));
    CHECK_FALSE(IrcMessage::parse("0001 x"));
    CHECK_FALSE(IrcMessage::parse("PRIV-MSG x"));
}

TEST_CASE("a line without a command is rejected with a reason") {
    std::string why;
    CHECK_FALSE(IrcMessage::parse("", &why));
    CHECK(why == "empty line");
    CHECK_FALSE(IrcMessage::parse(":only.a.prefix", &why));
    CHECK(why == "missing command");
    CHECK_FALSE(IrcMessage::parse("@a=b", &why));
    CHECK_FALSE(IrcMessage::parse("@a=b :src   ", &why));
    CHECK_FALSE(IrcMessage::parse("   \r\n", &why));
}

TEST_CASE("multiple spaces between parts are tolerated") {
    auto m = IrcMessage::parse(":src   PRIVMSG    #a    :x  y ");
    REQUIRE(m);
    CHECK(m->command == "PRIVMSG");
    REQUIRE(m->params.size() == 2);
    CHECK(m->params[0] == "#a");
    CHECK(m->params[1] == "x  y ");
}

TEST_CASE("an empty trailing param is kept as an empty string") {
    auto m = IrcMessage::parse("TOPIC #a :");
    REQUIRE(m);
    REQUIRE(m->params.size() == 2);
    CHECK(m->params[1].empty());
    CHECK(m->serialize() == "TOPIC #a :");
}

TEST_CASE("tags without values, repeated keys and escaped values are handled") {
    auto m = IrcMessage::parse("@flag;k=a\\sb\\:c\\\\d\\r\\ne;k2=x\\;k2=last;=nokey :s CMD");
    REQUIRE(m);
    CHECK(m->tags.at("flag").empty());
    CHECK(m->tags.at("k") == "a b;c\\d\r\ne");
    CHECK(m->tags.at("k2") == "last");
    CHECK(m->tags.count("") == 0);
    CHECK(m->tag("flag").has_value());
    CHECK_FALSE(m->tag("absent").has_value());
}

TEST_CASE("tag values escape and unescape symmetrically, with a lone trailing backslash dropped") {
    std::string raw = "semi;space back\\cr\rlf\n";
    CHECK(unescapeTagValue(escapeTagValue(raw)) == raw);
    CHECK(escapeTagValue(raw).find_first_of(" ;\r\n") == std::string::npos);
    CHECK(unescapeTagValue("abc\\") == "abc");
    CHECK(unescapeTagValue("\\b") == "b");
}

TEST_CASE("a tag section over 8191 bytes is ignored but the message still parses") {
    std::string line = "@k=" + std::string(9000, 'a') + " :s PRIVMSG #a :hi";
    auto m = IrcMessage::parse(line);
    REQUIRE(m);
    CHECK(m->tagsOverLimit);
    CHECK(m->tags.empty());
    CHECK(m->params[1] == "hi");

    std::string fits = "@k=" + std::string(8191 - 5, 'a') + " CMD";
    auto ok = IrcMessage::parse(fits);
    REQUIRE(ok);
    CHECK_FALSE(ok->tagsOverLimit);
    CHECK(ok->tags.at("k").size() == 8191 - 5);
}

TEST_CASE("a body longer than 512 bytes is accepted and flagged") {
    std::string text(600, 'x');
    auto m = IrcMessage::parse(":s PRIVMSG #a :" + text);
    REQUIRE(m);
    CHECK(m->bodyOverLimit);
    CHECK(m->params[1] == text);
    std::string exact = "PRIVMSG #a :" + std::string(510 - 12, 'y');
    CHECK_FALSE(IrcMessage::parse(exact)->bodyOverLimit);
    CHECK(IrcMessage::parse(exact + "y")->bodyOverLimit);
}

TEST_CASE("stray CR and NUL bytes inside a received line are dropped, not kept") {
    auto m = IrcMessage::parse(std::string(":s PRIVMSG #a :he\rl\0lo\r\r\n", 26));
    REQUIRE(m);
    CHECK(m->params[1] == "hello");
}

TEST_CASE("garbage input is rejected or parsed without crashing") {
    for (std::string g :
         {"@", "@;;;", ":", ": :", "\x01\x02\x03", "@a :b", "@@@ @ : : :", "::::", "@ CMD"}) {
        auto m = IrcMessage::parse(g);
        if (m) CHECK_FALSE(hasLineBreakOrNul(m->serialize()));
    }
}

TEST_CASE("a Matrix body with CR LF cannot inject a second IRC command") {
    auto m = build::privmsg("#chan", "hello\r\nQUIT :bye");
    std::string line = m.serialize();
    CHECK_FALSE(hasLineBreakOrNul(line));
    auto back = reparse(m);
    CHECK(back.command == "PRIVMSG");
    CHECK(back.params.size() == 2);
    CHECK(back.params[1] == "hello  QUIT :bye");
}

TEST_CASE("no builder lets CR, LF or NUL reach the wire whatever its arguments") {
    const std::string& h = kHostile;
    std::vector<IrcMessage> all = {
        build::privmsg(h, h),    build::notice(h, h),
        build::ctcpAction(h, h), build::join(h, h),
        build::part(h, h),       build::nick(h),
        build::user(h, h),       build::pass(h),
        build::capLs(h),         build::capReq({h, h}),
        build::authenticate(h),  build::ping(h),
        build::pong(h),          build::mode(h, h, {h, h}),
        build::topic(h, h),      build::topic(h),
        build::kick(h, h, h),    build::whois(h),
        build::quit(h),
    };
    for (const auto& p : build::authenticatePlain(h, h, h)) all.push_back(p);
    for (const auto& m : all) {
        std::string wire = m.wire();
        CAPTURE(wire);
        CHECK_FALSE(hasLineBreakOrNul(m.serialize()));
        // Exactly one line terminator, at the end.
        CHECK(wire.find("\r\n") == wire.size() - 2);
        auto back = reparse(m);
        CHECK(back.command == m.command);
        // Middle params cannot grow or shrink in number: the structure is what we built.
        CHECK(back.params.size() == m.params.size());
    }
}

TEST_CASE("a target with spaces or a leading colon cannot shift the message text") {
    auto m = build::privmsg(":#evil chan", "text");
    auto back = reparse(m);
    REQUIRE(back.params.size() == 2);
    CHECK(back.params[0] == "#evilchan");
    CHECK(back.params[1] == "text");
    auto empty = reparse(build::kick("", "", "why"));
    CHECK(empty.params == std::vector<std::string>{"*", "*", "why"});
}

TEST_CASE("a last param is sent as trailing when it needs to be") {
    IrcMessage m;
    m.command = "X";
    m.params = {"a", ":colon"};
    CHECK(m.serialize() == "X a ::colon");
    m.params = {"a", "two words"};
    CHECK(m.serialize() == "X a :two words");
    m.params = {"a", "word"};
    CHECK(m.serialize() == "X a word");
    m.params = {"a", ""};
    CHECK(m.serialize() == "X a :");
}

TEST_CASE("text messages always use a trailing param even for one word") {
    CHECK(build::privmsg("#a", "hi").serialize() == "PRIVMSG #a :hi");
    CHECK(build::notice("bob", "x").serialize() == "NOTICE bob :x");
}

TEST_CASE("parse then serialize round-trips an ordinary line") {
    std::string line = "@a=1;b :n!u@h PRIVMSG #c :hello world";
    CHECK(IrcMessage::parse(line)->serialize() == line);
    CHECK(IrcMessage::parse("PING :token")->serialize() == "PING :token");
}

TEST_CASE("serialized tags drop invalid key characters and escape values") {
    IrcMessage m;
    m.command = "TAGMSG";
    m.params = {"#a"};
    m.tags["+draft/react"] = "a b;c";
    m.tags["bad key=x"] = "v";
    m.tags["+"] = "dropped";
    std::string s = m.serialize();
    CHECK(s == "@+draft/react=a\\sb\\:c;badkeyx=v TAGMSG #a");
}

TEST_CASE("the builders produce the commands servers expect") {
    CHECK(build::ctcpAction("#a", "waves \x01hi").serialize() ==
          "PRIVMSG #a :\x01"
          "ACTION waves hi\x01");
    CHECK(build::join("#a").serialize() == "JOIN #a");
    CHECK(build::join("#a", "key").serialize() == "JOIN #a key");
    CHECK(build::part("#a").serialize() == "PART #a");
    CHECK(build::part("#a", "bye now").serialize() == "PART #a :bye now");
    CHECK(build::nick("bob").serialize() == "NICK bob");
    CHECK(build::user("bob", "Bob Smith").serialize() == "USER bob 0 * :Bob Smith");
    CHECK(build::pass("secret").serialize() == "PASS secret");
    CHECK(build::capLs().serialize() == "CAP LS 302");
    CHECK(build::capReq({"sasl", "server-time"}).serialize() == "CAP REQ :sasl server-time");
    CHECK(build::capEnd().serialize() == "CAP END");
    CHECK(build::pong("abc").serialize() == "PONG abc");
    CHECK(build::ping("abc").serialize() == "PING abc");
    CHECK(build::mode("#a", "+o", {"bob"}).serialize() == "MODE #a +o bob");
    CHECK(build::mode("#a", "").serialize() == "MODE #a");
    CHECK(build::topic("#a").serialize() == "TOPIC #a");
    CHECK(build::topic("#a", "").serialize() == "TOPIC #a :");
    CHECK(build::topic("#a", "new topic").serialize() == "TOPIC #a :new topic");
    CHECK(build::kick("#a", "bob").serialize() == "KICK #a bob");
    CHECK(build::kick("#a", "bob", "spam").serialize() == "KICK #a bob :spam");
    CHECK(build::whois("bob").serialize() == "WHOIS bob");
    CHECK(build::quit().serialize() == "QUIT");
    CHECK(build::quit("bye").serialize() == "QUIT :bye");
}

TEST_CASE("base64 encodes the RFC 4648 test vectors") {
    CHECK(base64Encode("") == "");
    CHECK(base64Encode("f") == "Zg==");
    CHECK(base64Encode("fo") == "Zm8=");
    CHECK(base64Encode("foo") == "Zm9v");
    CHECK(base64Encode("foob") == "Zm9vYg==");
    CHECK(base64Encode("fooba") == "Zm9vYmE=");
    CHECK(base64Encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("SASL PLAIN sends one AUTHENTICATE line for short credentials") {
    auto lines = build::authenticatePlain("", "jilles", "sesame");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].serialize() ==
          "AUTHENTICATE " + base64Encode(std::string("\0jilles\0sesame", 14)));
}

TEST_CASE("SASL PLAIN cuts long payloads into 400-byte chunks") {
    // 300 raw bytes -> 400 base64 bytes exactly: a "+" line must follow.
    std::string password(300 - 2 - 4, 'p');
    auto exact = build::authenticatePlain("", "user", password);
    REQUIRE(exact.size() == 2);
    CHECK(exact[0].params[0].size() == 400);
    CHECK(exact[1].params[0] == "+");

    auto longer = build::authenticatePlain("", "user", std::string(400, 'p'));
    REQUIRE(longer.size() == 2);
    CHECK(longer[0].params[0].size() == 400);
    CHECK(longer[1].params[0].size() < 400);
    CHECK(longer[1].params[0] != "+");

    std::string joined;
    for (const auto& l : longer) joined += l.params[0];
    CHECK(joined == base64Encode(std::string("\0user\0", 6) + std::string(400, 'p')));
}

TEST_CASE("param() returns an empty string for a missing index") {
    auto m = IrcMessage::parse("PING");
    REQUIRE(m);
    CHECK(m->param(0).empty());
    CHECK(m->param(5).empty());
}
