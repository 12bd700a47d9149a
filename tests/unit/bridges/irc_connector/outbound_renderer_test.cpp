// Matrix -> IRC rendering: what a Matrix message, reply or edit becomes as IRC lines.
#include <doctest/doctest.h>

#include "mxbridge/irc/text_split.h"
#include "outbound_renderer.h"

using namespace mxbridge;
using namespace mxbridge::irc;

namespace {

MatrixEvent eventNamed(const std::string& id) {
    return MatrixEvent::fromJson(EventSource::Timeline,
                                 R"({"type":"m.room.message","room_id":"!r:hs","sender":"@alice:hs","event_id":")" + id +
                                     R"(","content":{}})");
}

MatrixMessage messageOf(const MatrixEvent& e, std::string body) {
    return MatrixMessage{.event = e,
                         .room = RoomId("!r:hs"),
                         .remotes = {RemoteRoomId("net/#chan")},
                         .sender = UserId("@alice:hs"),
                         .senderName = "Alice",
                         .kind = MessageKind::Text,
                         .body = std::move(body),
                         .html = std::nullopt,
                         .media = std::nullopt,
                         .replyTo = std::nullopt,
                         .replyToRemote = std::nullopt};
}

NetworkConfig networkNamed(const std::string& name) {
    NetworkConfig n;
    n.name = name;
    n.address = "irc.test";
    return n;
}

struct Rendering {
    NetworkConfig network = networkNamed("net");
    IrcBridgeConfig bridge;
    OutboundRenderer renderer{network, bridge};
    // bob is a ghost, alice's puppet is "alice[m]".
    OutboundRenderer::NickLookup nicks{
        .forUser = [](const std::string& user) -> std::optional<std::string> {
            if (user == "@alice:hs") return "alice[m]";
            if (user == "@irc_bob:hs") return "Bob";
            return std::nullopt;
        },
        .current = [](const std::string& folded) { return folded == "bob" ? std::string("Bob") : folded; }};
    RemoteTarget channel{.network = "net", .channel = "#chan", .nick = {}, .matrixUser = UserId()};
};

}  // namespace

TEST_CASE("a Matrix text message to a channel becomes one PRIVMSG line") {
    Rendering r;
    MatrixEvent e = eventNamed("$1");
    MatrixMessage m = messageOf(e, "hello there");
    bool emote = true;
    auto lines = r.renderer.lines(m, r.channel, "", emote, r.nicks);
    CHECK_FALSE(emote);
    REQUIRE(lines == std::vector<std::string>{"hello there"});
    CHECK(OutboundRenderer::lineTo(r.channel, MessageKind::Text, lines[0]).serialize() == "PRIVMSG #chan :hello there");
}

TEST_CASE("a Matrix emote becomes a CTCP ACTION and a notice a NOTICE") {
    Rendering r;
    MatrixEvent e = eventNamed("$1");
    MatrixMessage m = messageOf(e, "waves");
    m.kind = MessageKind::Emote;
    bool emote = false;
    auto lines = r.renderer.lines(m, r.channel, "", emote, r.nicks);
    CHECK(emote);
    REQUIRE(lines.size() == 1);
    CHECK(OutboundRenderer::lineTo(r.channel, MessageKind::Emote, lines[0]).serialize() ==
          "PRIVMSG #chan :\x01" "ACTION waves\x01");
    CHECK(OutboundRenderer::lineTo(r.channel, MessageKind::Notice, "psst").serialize() == "NOTICE #chan :psst");
}

TEST_CASE("pills in a formatted Matrix message become the IRC nicks of the users they name") {
    Rendering r;
    MatrixEvent e = eventNamed("$1");
    MatrixMessage m = messageOf(e, "Bob: hi");
    m.html = R"(<a href="https://matrix.to/#/@irc_bob:hs">Bob (IRC)</a>: hi <b>there</b>, )"
             R"(<a href="https://matrix.to/#/@alice:hs">Alice</a>)";
    bool emote = false;
    auto lines = r.renderer.lines(m, r.channel, "", emote, r.nicks);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "Bob: hi \x02there\x02, alice[m]");
}

TEST_CASE("a Matrix reply addresses the replied-to IRC author by their current nick, on one line") {
    Rendering r;
    MatrixEvent e = eventNamed("$2");
    MatrixMessage m = messageOf(e, "yes\nindeed");
    m.replyTo = EventId("$1");
    m.replyToRemote = RemoteMessageId("net/bob/1700000000000-1");
    bool emote = false;
    auto lines = r.renderer.lines(m, r.channel, "", emote, r.nicks);
    CHECK(lines == std::vector<std::string>{"Bob: yes indeed"});
}

TEST_CASE("a long Matrix message is split into lines that fit an IRC line after the relay prefix") {
    Rendering r;
    MatrixEvent e = eventNamed("$1");
    std::string body;
    for (int i = 0; i < 120; ++i) body += "word" + std::to_string(i) + " ";
    MatrixMessage m = messageOf(e, body);
    const std::string prefix = "<Alice> ";
    bool emote = false;
    auto lines = r.renderer.lines(m, r.channel, prefix, emote, r.nicks);
    REQUIRE(lines.size() >= 2);
    std::string joined;
    for (const auto& line : lines) {
        CHECK(prefix.size() + line.size() <= maxPayloadBytes(r.channel.ircTarget().size(), 0, false));
        joined += line + " ";
    }
    CHECK(joined.find("word0 ") == 0);
    CHECK(joined.find("word119") != std::string::npos);
}

TEST_CASE("a Matrix message with several lines becomes one IRC line per line") {
    Rendering r;
    MatrixEvent e = eventNamed("$1");
    MatrixMessage m = messageOf(e, "one\ntwo\nthree");
    bool emote = false;
    CHECK(r.renderer.lines(m, r.channel, "", emote, r.nicks) == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("a Matrix file names itself before its link") {
    Rendering r;
    MatrixEvent e = eventNamed("$1");
    MatrixMessage m = messageOf(e, "cat.png");
    m.media = MediaInfo{.mxcUrl = "mxc://hs/abc", .mimeType = "image/png", .fileName = "cat.png", .size = 1234};
    bool emote = false;
    auto lines = r.renderer.lines(m, r.channel, "", emote, r.nicks);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("cat.png ", 0) == 0);
    CHECK(lines[0].size() > std::string("cat.png ").size());
}

TEST_CASE("a Matrix edit becomes one IRC line starting with an asterisk") {
    Rendering r;
    MatrixEvent e = eventNamed("$3");
    MatrixEdit edit{.event = e,
                    .room = RoomId("!r:hs"),
                    .remotes = {RemoteRoomId("net/#chan")},
                    .sender = UserId("@alice:hs"),
                    .target = EventId("$1"),
                    .targetRemote = std::nullopt,
                    .newBody = "fixed\ntext",
                    .newHtml = std::nullopt};
    std::string text = r.renderer.editText(edit);
    CHECK(text == "fixed text");
    CHECK(r.renderer.editLine(text, r.channel, "<Alice> ") == std::optional<std::string>("<Alice> * fixed text"));
    CHECK_FALSE(r.renderer.editLine("", r.channel, "").has_value());
}
