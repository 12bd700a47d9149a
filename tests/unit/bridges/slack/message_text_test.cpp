// Slack message text to Matrix plain text and back: what a reader on each side sees.
#include <doctest/doctest.h>

#include "mxbridge/slack/message_text.h"

using namespace mxbridge::slack;

namespace {

std::string plain(std::string_view text) {
    return slackTextToPlain(text, [](std::string_view id) { return id == "U0ALICE01" ? std::string("Alice") : std::string(); });
}

}  // namespace

TEST_CASE("entities are decoded and mentions read as names") {
    CHECK(plain("1 &lt; 2 &amp;&amp; 3 &gt; 2") == "1 < 2 && 3 > 2");
    CHECK(plain("hi <@U0ALICE01>, see <#C0CHAN001|general>") == "hi @Alice, see #general");
    CHECK(plain("<@U0NOBODY1>") == "@U0NOBODY1");
    CHECK(plain("<!here> and <!channel>") == "@here and @channel");
    CHECK(plain("<!subteam^S0TEAM001|@devs> ping") == "@devs ping");
}

TEST_CASE("links keep their URL where the label hides it") {
    CHECK(plain("<https://example.org/a?b=1&amp;c=2>") == "https://example.org/a?b=1&c=2");
    CHECK(plain("see <https://example.org|the docs>") == "see the docs (https://example.org)");
    CHECK(plain("<mailto:a@example.org|a@example.org>") == "a@example.org (mailto:a@example.org)");
}

TEST_CASE("formatting marks and unbalanced brackets stay as typed") {
    CHECK(plain("*bold* _it_ ~gone~ `code`") == "*bold* _it_ ~gone~ `code`");
    CHECK(plain("a <b") == "a <b");
    CHECK(plain("&amp;lt;") == "&lt;");
}

TEST_CASE("text from Matrix cannot mention, notify or link on Slack by itself") {
    CHECK(escapeForSlack("<!channel> <@U0ALICE01> a&b <https://x|y>") ==
          "&lt;!channel&gt; &lt;@U0ALICE01&gt; a&amp;b &lt;https://x|y&gt;");
    std::string typed = "if a < b && c > d: <!here> &amp;";
    CHECK(slackTextToPlain(escapeForSlack(typed), nullptr) == typed);
}
