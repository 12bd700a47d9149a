// Formatting between Slack and Matrix, with rich_text shaped as Slack clients send it.
#include <doctest/doctest.h>

#include "mxbridge/slack/rich_text.h"

using namespace mxbridge::slack;

namespace {

RichTextNames names() {
    return RichTextNames{
        .userPill = [](std::string_view id) -> std::optional<std::pair<std::string, std::string>> {
            if (id == "U0ALICE01") return std::make_pair(std::string("@slack_u0alice01:hs.test"), std::string("Alice"));
            return std::nullopt;
        },
        .channelName = [](std::string_view id) { return id == "C0CHAN001" ? std::string("general") : std::string(); }};
}

nlohmann::json richText(nlohmann::json elements) {
    return nlohmann::json::array({{{"type", "rich_text"}, {"block_id", "b1"}, {"elements", std::move(elements)}}});
}

nlohmann::json section(nlohmann::json elements) {
    return {{"type", "rich_text_section"}, {"elements", std::move(elements)}};
}

std::optional<std::string> slackUser(std::string_view matrixId) {
    if (matrixId == "@slack_u0alice01:hs.test") return std::string("U0ALICE01");
    return std::nullopt;
}

}  // namespace

TEST_CASE("styled text, links, mentions and emoji from Slack become Matrix HTML") {
    auto html = richTextToHtml(
        richText({section({{{"type", "text"}, {"text", "bold"}, {"style", {{"bold", true}}}},
                           {{"type", "text"}, {"text", " & "}},
                           {{"type", "text"}, {"text", "it"}, {"style", {{"italic", true}, {"strike", true}}}},
                           {{"type", "text"}, {"text", " "}},
                           {{"type", "text"}, {"text", "x<y"}, {"style", {{"code", true}}}},
                           {{"type", "text"}, {"text", " "}},
                           {{"type", "link"}, {"url", "https://example.org/?a=1&b=2"}, {"text", "docs"}},
                           {{"type", "text"}, {"text", " "}},
                           {{"type", "user"}, {"user_id", "U0ALICE01"}},
                           {{"type", "text"}, {"text", " in "}},
                           {{"type", "channel"}, {"channel_id", "C0CHAN001"}},
                           {{"type", "emoji"}, {"name", "thumbsup"}, {"unicode", "1f44d"}}})}),
        names());
    REQUIRE(html);
    CHECK(*html ==
          "<b>bold</b> &amp; <i><del>it</del></i> <code>x&lt;y</code> "
          "<a href=\"https://example.org/?a=1&amp;b=2\">docs</a> "
          "<a href=\"https://matrix.to/#/@slack_u0alice01:hs.test\">Alice</a> in #general\xF0\x9F\x91\x8D");
}

TEST_CASE("code blocks, quotes and lists from Slack keep their shape") {
    auto html = richTextToHtml(
        richText({{{"type", "rich_text_preformatted"}, {"elements", {{{"type", "text"}, {"text", "a <b>\n  c"}}}}},
                  {{"type", "rich_text_quote"}, {"elements", {{{"type", "text"}, {"text", "quoted"}}}}},
                  {{"type", "rich_text_list"}, {"style", "ordered"}, {"indent", 0},
                   {"elements", {section({{{"type", "text"}, {"text", "one"}}}), section({{{"type", "text"}, {"text", "two"}}})}}}}),
        names());
    REQUIRE(html);
    CHECK(*html == "<pre><code>a &lt;b&gt;\n  c</code></pre><blockquote>quoted</blockquote><ol><li>one</li><li>two</li></ol>");
}

TEST_CASE("plain rich_text, or none, leaves the message as plain text") {
    CHECK_FALSE(richTextToHtml(richText({section({{{"type", "text"}, {"text", "just words"}}})}), names()));
    CHECK_FALSE(richTextToHtml(nlohmann::json::array(), names()));
    CHECK_FALSE(richTextToHtml(nullptr, names()));
}

TEST_CASE("Matrix HTML becomes mrkdwn, with text escaped and ghosts' pills as mentions") {
    CHECK(htmlToMrkdwn("<b>bold</b> <i>it</i> <del>gone</del> <code>a&lt;b</code>", slackUser) ==
          "*bold* _it_ ~gone~ `a&lt;b`");
    CHECK(htmlToMrkdwn("see <a href=\"https://example.org/x?a=1&amp;b=2\">the docs</a>", slackUser) ==
          "see <https://example.org/x?a=1&amp;b=2|the docs>");
    CHECK(htmlToMrkdwn("<a href=\"https://matrix.to/#/@slack_u0alice01:hs.test\">Alice</a>: hi", slackUser) ==
          "<@U0ALICE01>: hi");
    CHECK(htmlToMrkdwn("<a href=\"https://matrix.to/#/@bob:hs.test\">Bob</a>: hi", slackUser) == "Bob: hi");
    CHECK(htmlToMrkdwn("<pre><code>x &lt; y\nz</code></pre>", slackUser) == "```x &lt; y\nz```");
    CHECK(htmlToMrkdwn("<blockquote>a<br>b</blockquote>c", slackUser) == "> a\n> b\nc");
    CHECK(htmlToMrkdwn("<ul><li>one</li><li>two</li></ul>", slackUser) == "• one\n• two");
}

TEST_CASE("a Matrix sender cannot forge a mention or a channel-wide ping through HTML") {
    CHECK(htmlToMrkdwn("\x01U0ALICE01 &lt;!channel&gt;", slackUser) == "U0ALICE01 &lt;!channel&gt;");
    CHECK(htmlToMrkdwn("<a href=\"!here\">look</a>", slackUser) == "look");
    CHECK(htmlToMrkdwn("<a href=\"https://x.test/a|b\">c</a>", slackUser) == "<https://x.test/a%7Cb|c>");
}
