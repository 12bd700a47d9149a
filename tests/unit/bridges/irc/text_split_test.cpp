// splitForIrc and the payload budget.
#include "mxbridge/irc/text_split.h"

#include <doctest/doctest.h>

#include <sstream>

#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/text_encoding.h"

using namespace mxbridge::irc;

namespace {

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

std::string joinStripped(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += ircStripFormatting(l) + " ";
    return out;
}

}  // namespace

TEST_CASE("a short message is one line, unchanged") {
    CHECK(splitForIrc("hello world", 400) == std::vector<std::string>{"hello world"});
}

TEST_CASE("each input line becomes its own IRC line and empty lines are dropped") {
    CHECK(splitForIrc("one\r\n\ntwo\n   \nthree\n", 400) ==
          std::vector<std::string>{"one", "two", "three"});
    CHECK(splitForIrc("", 400).empty());
    CHECK(splitForIrc("\n\n", 400).empty());
}

TEST_CASE("long text breaks at spaces and keeps every word") {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i) + " ";
    auto lines = splitForIrc(text, 50);
    CHECK(lines.size() > 10);
    for (const auto& l : lines) {
        CHECK(l.size() <= 50);
        CHECK(l.front() != ' ');
    }
    CHECK(words(joinStripped(lines)) == words(text));
}

TEST_CASE("a word longer than the limit is cut hard") {
    std::string text(130, 'a');
    auto lines = splitForIrc(text, 50);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].size() == 50);
    CHECK(lines[0] + lines[1] + lines[2] == text);
}

TEST_CASE("splitting exactly at the limit with multibyte characters never cuts a character") {
    for (std::size_t max = 16; max < 64; ++max) {
        std::string text;
        for (int i = 0; i < 100; ++i) text += "é€🎉";
        auto lines = splitForIrc(text, max);
        std::string joined;
        for (const auto& l : lines) {
            CAPTURE(max);
            CHECK(l.size() <= max);
            CHECK(isValidUtf8(l));
            joined += l;
        }
        CHECK(joined == text);
    }
}

TEST_CASE("a colour code is never cut in the middle") {
    for (std::size_t max = 16; max < 40; ++max) {
        std::string text;
        for (int i = 0; i < 50; ++i)
            text +=
                "ab\x03"
                "12,04cd";
        auto lines = splitForIrc(text, max);
        for (const auto& l : lines) {
            CAPTURE(max);
            CHECK(l.size() <= max);
            // Every line starts in a known state: recompute and compare the visible text.
        }
        CHECK(joinStripped(lines).find("\x03") == std::string::npos);
        std::string visible;
        for (const auto& l : lines) visible += ircStripFormatting(l);
        CHECK(visible == ircStripFormatting(text));
    }
}

TEST_CASE("formatting active at a break is re-opened on the next line") {
    std::string text = "\x02" + std::string(30, 'b') + " " + std::string(10, 'c');
    auto lines = splitForIrc(text, 32);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1] == "\x02" + std::string(10, 'c'));
    CHECK(ircToHtml(lines[1]).html == "<b>cccccccccc</b>");
}

TEST_CASE("formatting carries across input lines because IRC resets it at each line end") {
    auto lines = splitForIrc(
        "\x03"
        "04red\nstill red",
        400);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1] ==
          "\x03"
          "04\x02\x02still red");
    CHECK(ircStripFormatting(lines[1]) == "still red");
}

TEST_CASE("a line budget below the minimum is raised rather than looping forever") {
    auto lines = splitForIrc(
        "\x04"
        "FF0000,00FF00" +
            std::string(40, 'x'),
        1);
    CHECK_FALSE(lines.empty());
    for (const auto& l : lines) CHECK(l.size() <= kMinSplitBytes);
}

TEST_CASE("invalid UTF-8 bytes are cut as single bytes and nothing is lost") {
    std::string text(100, '\xFF');
    auto lines = splitForIrc(text, 30);
    std::string joined;
    for (const auto& l : lines) joined += l;
    CHECK(joined == text);
}

TEST_CASE("a huge message splits into lines that all fit") {
    std::string text;
    for (int i = 0; i < 100000; ++i) text += (i % 7 == 0) ? "ünïcødé " : "x ";
    auto lines = splitForIrc(text, maxPayloadBytes(5, 0));
    for (const auto& l : lines) CHECK(l.size() <= maxPayloadBytes(5, 0));
    CHECK(words(joinStripped(lines)) == words(text));
}

TEST_CASE("the payload budget subtracts the relayed prefix, command and target") {
    // ":" + 20 + " PRIVMSG " + 5 + " :" + CRLF + margin 10
    CHECK(maxPayloadBytes(5, 20) == 512 - 2 - 22 - 7 - 1 - 5 - 2 - 10);
    CHECK(maxPayloadBytes(5, 20, true) == maxPayloadBytes(5, 20) - 9);
    CHECK(maxPayloadBytes(5, 0) < maxPayloadBytes(5, 20));
    CHECK(maxPayloadBytes(5000, 0) == kMinSplitBytes);
    std::string nick = "nick!user@" + std::string(63, 'h');
    std::string line = ":" + nick +
                       " PRIVMSG #chan :" + std::string(maxPayloadBytes(5, nick.size()), 'x') +
                       "\r\n";
    CHECK(line.size() <= 512);
}
