// Case mapping, ISUPPORT, nicks, flood control, CTCP, mentions, CAP and server-time.
#include <doctest/doctest.h>

#include <algorithm>
#include <unordered_map>

#include "mxbridge/irc/caps.h"
#include "mxbridge/irc/casemapping.h"
#include "mxbridge/irc/ctcp.h"
#include "mxbridge/irc/flood_control.h"
#include "mxbridge/irc/isupport.h"
#include "mxbridge/irc/mentions.h"
#include "mxbridge/irc/nick.h"
#include "mxbridge/irc/server_time.h"

using namespace mxbridge::irc;
using namespace std::chrono_literals;

namespace {

IrcMessage parsed(std::string_view line) {
    auto m = IrcMessage::parse(line);
    REQUIRE(m);
    return *m;
}

}  // namespace

TEST_CASE("rfc1459 folds brackets and tilde, strict-rfc1459 not tilde, ascii only letters") {
    CHECK(ircLower("Nick[]\\~", CaseMapping::Rfc1459) == "nick{}|^");
    CHECK(ircLower("Nick[]\\~", CaseMapping::StrictRfc1459) == "nick{}|~");
    CHECK(ircLower("Nick[]\\~", CaseMapping::Ascii) == "nick[]\\~");
    CHECK(ircEquals("Foo[x]", "fOO{X}", CaseMapping::Rfc1459));
    CHECK_FALSE(ircEquals("Foo[x]", "fOO{X}", CaseMapping::Ascii));
    CHECK_FALSE(ircEquals("a", "ab", CaseMapping::Ascii));
    CHECK(parseCaseMapping("strict-rfc1459") == CaseMapping::StrictRfc1459);
    CHECK(parseCaseMapping("rfc7613") == CaseMapping::Ascii);
    CHECK_FALSE(parseCaseMapping("unknown"));
}

TEST_CASE("an unordered_map keyed by nick finds names that differ only in IRC case") {
    std::unordered_map<std::string, int, IrcCaseHash, IrcCaseEqual> m(
        8, IrcCaseHash{CaseMapping::Rfc1459}, IrcCaseEqual{CaseMapping::Rfc1459});
    m["Bob[away]"] = 1;
    CHECK(m.count("bob{AWAY}") == 1);
    CHECK(m.count("bob") == 0);
}

TEST_CASE("ISUPPORT tokens set case mapping, channel types, prefixes and limits") {
    ISupport is;
    CHECK(is.caseMapping() == CaseMapping::Rfc1459);
    CHECK(is.nickLen() == 9);
    is.apply(parsed(
        ":srv 005 me CASEMAPPING=ascii CHANTYPES=#! PREFIX=(qaohv)~&@%+ CHANMODES=beI,k,l,imnpst "
        "NICKLEN=30 CHANNELLEN=64 LINELEN=2048 TARGMAX=PRIVMSG:4,JOIN:,NOTICE:3 "
        "NETWORK=Example\\x20Net EXCEPTS :are supported by this server"));
    CHECK(is.caseMapping() == CaseMapping::Ascii);
    CHECK(is.isChannel("!abc"));
    CHECK_FALSE(is.isChannel("&abc"));
    CHECK_FALSE(is.isChannel(""));
    CHECK(is.prefixModes() == "qaohv");
    CHECK(is.prefixSymbols() == "~&@%+");
    CHECK(is.modeForPrefix('%') == 'h');
    CHECK(is.prefixForMode('q') == '~');
    CHECK_FALSE(is.modeForPrefix('!'));
    CHECK(is.chanModes(0) == "beI");
    CHECK(is.chanModes(3) == "imnpst");
    CHECK(is.chanModes(7).empty());
    CHECK(is.nickLen() == 30);
    CHECK(is.channelLen() == 64);
    CHECK(is.lineLen() == 2048);
    CHECK(is.targetMax("privmsg") == 4u);
    CHECK(is.targetMax("JOIN") == 0u);
    CHECK_FALSE(is.targetMax("KICK"));
    CHECK(is.value("network") == "Example Net");
    CHECK(is.value("EXCEPTS") == "");
    CHECK_FALSE(is.value("are"));
}

TEST_CASE("an ISUPPORT line without the trailing text still applies its last token") {
    ISupport is;
    is.apply(parsed(":srv 005 me CHANTYPES=# NICKLEN=16"));
    CHECK(is.nickLen() == 16);
    IrcMessage odd;
    odd.command = "005";
    odd.lastIsTrailing = true;
    is.apply(odd);
    CHECK(is.nickLen() == 16);
}

TEST_CASE("a negated ISUPPORT token restores the default") {
    ISupport is;
    is.applyToken("NICKLEN=31");
    is.applyToken("-NICKLEN");
    CHECK(is.nickLen() == 9);
    CHECK_FALSE(is.value("NICKLEN"));
    is.applyToken("NICKLEN=notanumber");
    CHECK(is.nickLen() == 9);
    is.applyToken("PREFIX=(ov)@");
    CHECK(is.prefixModes().empty());
}

TEST_CASE("valid nicks follow the RFC shape") {
    CHECK(isValidNick("alice"));
    CHECK(isValidNick("[m]bob_-1"));
    CHECK(isValidNick("`x^{|}"));
    CHECK_FALSE(isValidNick(""));
    CHECK_FALSE(isValidNick("1abc"));
    CHECK_FALSE(isValidNick("-abc"));
    CHECK_FALSE(isValidNick("a b"));
    CHECK_FALSE(isValidNick("a:b"));
    CHECK_FALSE(isValidNick("abcdefghij", 9));
    CHECK(isValidNick("abcdefghi", 9));
}

TEST_CASE("a Matrix display name becomes a valid nick with the template suffix") {
    CHECK(sanitizeNick("Alice", 30) == "Alice[m]");
    CHECK(sanitizeNick("Alice Smith", 30) == "Alice_Smith[m]");
    CHECK(sanitizeNick("Émile Zoë", 30) == "Emile_Zoe[m]");
    CHECK(sanitizeNick("@bob:example.org", 30) == "bob_example_org[m]");
    CHECK(sanitizeNick("日本語", 30) == "user[m]");
    CHECK(sanitizeNick("", 30) == "user[m]");
    CHECK(sanitizeNick("42isthe answer", 30) == "_42isthe_answer[m]");
    CHECK(sanitizeNick("-dash", 30) == "_-dash[m]");
    CHECK(sanitizeNick("x", 30, "mx_{name}") == "mx_x");
    CHECK(sanitizeNick("x", 30, "") == "x");
}

TEST_CASE("a long name is truncated to NICKLEN keeping the suffix") {
    std::string n = sanitizeNick("averyveryverylongdisplayname", 9);
    CHECK(n == "averyv[m]");
    CHECK(n.size() <= 9);
    CHECK(isValidNick(n, 9));
    CHECK(sanitizeNick("abc", 3) == "abc");
    CHECK(sanitizeNick("abc", 1) == "a");
}

TEST_CASE("whatever the input, the sanitized nick is valid and fits") {
    for (std::string name : {"\r\nQUIT", "\x01\x02", ":::",
                             "a\xFF\xFE"
                             "b",
                             "   ", "1", "_", "[m]", "a\0b"}) {
        for (std::size_t len : {1u, 2u, 5u, 9u, 30u}) {
            std::string n = sanitizeNick(name, len);
            CAPTURE(name);
            CAPTURE(len);
            CHECK(isValidNick(n, len));
        }
    }
}

TEST_CASE("flood control allows a burst then one line per interval") {
    FloodControl fc(3, 2s);
    FloodControl::Clock::time_point t0{};
    t0 += 1000s;
    CHECK(fc.available(t0) == 3);
    CHECK(fc.tryTake(t0));
    CHECK(fc.tryTake(t0));
    CHECK(fc.tryTake(t0));
    CHECK_FALSE(fc.tryTake(t0));
    CHECK(fc.available(t0) == 0);
    CHECK(fc.nextAvailable(t0) == t0 + 2s);
    CHECK_FALSE(fc.tryTake(t0 + 1999ms));
    CHECK(fc.tryTake(t0 + 2s));
    CHECK_FALSE(fc.tryTake(t0 + 2s));
    // After a long pause the bucket is full again, never fuller.
    CHECK(fc.available(t0 + 1h) == 3);
    CHECK(fc.nextAvailable(t0 + 1h) == t0 + 1h);
}

TEST_CASE("flood control with a zero burst still lets one line through per interval") {
    FloodControl fc(0, 1s);
    FloodControl::Clock::time_point t{};
    t += 10s;
    CHECK(fc.tryTake(t));
    CHECK_FALSE(fc.tryTake(t));
    CHECK(fc.tryTake(t + 1s));
}

TEST_CASE("CTCP requests are parsed, and built ones cannot be broken out of") {
    auto action = parseCtcp(
        "\x01"
        "ACTION waves hello\x01");
    REQUIRE(action);
    CHECK(action->command == "ACTION");
    CHECK(action->params == "waves hello");
    auto noClose = parseCtcp("\x01version");
    REQUIRE(noClose);
    CHECK(noClose->command == "VERSION");
    CHECK(noClose->params.empty());
    CHECK_FALSE(parseCtcp("plain"));
    CHECK_FALSE(parseCtcp("\x01"));
    CHECK_FALSE(parseCtcp("\x01\x01"));
    CHECK(isCtcp("\x01PING 1\x01"));
    CHECK(buildCtcp("PING", "1\x01\r\nx") == "\x01PING 1x\x01");
}

TEST_CASE("VERSION, PING and CLIENTINFO get automatic replies, ACTION does not") {
    CHECK(ctcpReply({"VERSION", ""}, "mxbridge 0.1") == "\x01VERSION mxbridge 0.1\x01");
    CHECK(ctcpReply({"PING", "12345"}, "v") == "\x01PING 12345\x01");
    CHECK(ctcpReply({"CLIENTINFO", ""}, "v").has_value());
    CHECK_FALSE(ctcpReply({"ACTION", "x"}, "v"));
    CHECK_FALSE(ctcpReply({"DCC", "SEND x"}, "v"));
}

TEST_CASE("a nick is highlighted as a whole word, case-mapped, with a colon or not") {
    std::vector<std::string> nicks = {"bob", "Bob[m]", "al"};
    auto m =
        findMentions("BOB{M}: hey, and bob! not bobby or xbob, al.", nicks, CaseMapping::Rfc1459);
    REQUIRE(m.size() == 3);
    CHECK(m[0].nick == "Bob[m]");
    CHECK(m[0].offset == 0);
    CHECK(m[0].length == 6);
    CHECK(m[1].nick == "bob");
    CHECK(m[1].offset == 17);
    CHECK(m[2].nick == "al");
    CHECK(mentionsNick("hi @bob", "bob", CaseMapping::Ascii));
    CHECK_FALSE(mentionsNick("hi bob_", "bob", CaseMapping::Ascii));
    CHECK_FALSE(mentionsNick("hébob", "bob", CaseMapping::Ascii));
    CHECK(findMentions("", nicks, CaseMapping::Ascii).empty());
    CHECK(findMentions("bob", {""}, CaseMapping::Ascii).empty());
}

TEST_CASE("CAP LS 302 across continuation lines collects capabilities and values") {
    CapNegotiation caps;
    CHECK(caps.handle(parsed(":srv CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL server-time")) ==
          CapEvent::LsPartial);
    CHECK_FALSE(caps.lsComplete());
    CHECK(caps.handle(parsed(":srv CAP * LS :away-notify draft/foo=bar account-notify")) ==
          CapEvent::LsDone);
    CHECK(caps.lsComplete());
    CHECK(caps.available().at("sasl") == "PLAIN,EXTERNAL");
    CHECK(caps.available().at("draft/foo") == "bar");
    CHECK(caps.saslMechanisms() == std::vector<std::string>{"PLAIN", "EXTERNAL"});
    CHECK(caps.toRequest(true) == std::vector<std::string>{"server-time", "away-notify",
                                                           "account-notify", "multi-prefix",
                                                           "sasl"});
    CHECK(caps.toRequest(false) ==
          std::vector<std::string>{"server-time", "away-notify", "account-notify", "multi-prefix"});
    auto reqs = caps.requestMessages(true);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].serialize() ==
          "CAP REQ :server-time away-notify account-notify multi-prefix sasl");
}

TEST_CASE("sasl is not requested when the server offers no PLAIN mechanism") {
    CapNegotiation caps;
    caps.handle(parsed("CAP * LS :sasl=EXTERNAL"));
    CHECK(caps.toRequest(true).empty());
    CapNegotiation old;
    old.handle(parsed("CAP * LS :sasl"));
    CHECK(old.toRequest(true) == std::vector<std::string>{"sasl"});
}

TEST_CASE("CAP ACK, NAK, NEW and DEL update what is enabled and available") {
    CapNegotiation caps;
    caps.handle(parsed("CAP * LS :server-time batch"));
    CHECK(caps.handle(parsed("CAP me ACK :server-time batch")) == CapEvent::Acked);
    CHECK(caps.isEnabled("server-time"));
    CHECK(caps.toRequest(true).empty());
    CHECK(caps.handle(parsed("CAP me NAK :echo-message")) == CapEvent::Naked);
    CHECK(caps.handle(parsed("CAP me NEW :echo-message")) == CapEvent::New);
    CHECK(caps.toRequest(true) == std::vector<std::string>{"echo-message"});
    CHECK(caps.handle(parsed("CAP me DEL :batch")) == CapEvent::Deleted);
    CHECK_FALSE(caps.isEnabled("batch"));
    CHECK(caps.handle(parsed("CAP me ACK :-server-time")) == CapEvent::Acked);
    CHECK_FALSE(caps.isEnabled("server-time"));
    CHECK(caps.handle(parsed("PRIVMSG #a :b")) == CapEvent::Ignored);
    CHECK(caps.handle(parsed("CAP me")) == CapEvent::Ignored);
}

TEST_CASE("a long CAP REQ is split so each list stays under 400 bytes") {
    std::vector<std::string> wanted;
    std::string ls;
    for (int i = 0; i < 60; ++i) {
        wanted.push_back("vendor.example/capability-" + std::to_string(i));
        ls += wanted.back() + " ";
    }
    CapNegotiation caps(wanted);
    caps.handle(parsed("CAP * LS :" + ls));
    auto reqs = caps.requestMessages(true);
    CHECK(reqs.size() > 1);
    std::size_t total = 0;
    for (const auto& r : reqs) {
        CHECK(r.params.back().size() <= 400);
        total += static_cast<std::size_t>(
                     std::count(r.params.back().begin(), r.params.back().end(), ' ')) +
                 1;
    }
    CHECK(total == 60);
}

TEST_CASE("server-time tags convert to Unix milliseconds") {
    CHECK(parseServerTime("1970-01-01T00:00:00.000Z") == 0);
    CHECK(parseServerTime("2011-10-19T16:40:51.620Z") == 1319042451620);
    CHECK(parseServerTime("2024-02-29T12:00:00Z") == 1709208000000);
    CHECK(parseServerTime("2024-02-29T12:00:00.5Z") == 1709208000500);
    CHECK(parseServerTime("2024-02-29T12:00:00.123456Z") == 1709208000123);
    CHECK_FALSE(parseServerTime("2024-02-29T12:00:00"));
    CHECK_FALSE(parseServerTime("2024-02-29 12:00:00Z"));
    CHECK_FALSE(parseServerTime("2024-13-01T00:00:00Z"));
    CHECK_FALSE(parseServerTime("2024-01-01T00:00:00.Z"));
    CHECK_FALSE(parseServerTime("2024-01-01T00:00:00.000Zjunk"));
    CHECK_FALSE(parseServerTime(""));
    CHECK(serverTimeMs(parsed("@time=1970-01-01T00:00:01.000Z PING x")) == 1000);
    CHECK_FALSE(serverTimeMs(parsed("PING x")));
}
