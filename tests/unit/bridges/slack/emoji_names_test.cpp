// Reactions cross between Slack's emoji names and Matrix's emoji characters.
#include <doctest/doctest.h>

#include "mxbridge/slack/emoji_names.h"

using namespace mxbridge::slack;

TEST_CASE("Slack's names become the emoji Matrix clients send, skin tones included") {
    CHECK(emojiForSlackName("+1") == "👍");
    CHECK(emojiForSlackName("thumbsup") == "👍");
    CHECK(emojiForSlackName("heart") == "❤️");
    CHECK(emojiForSlackName("+1::skin-tone-2") == "👍🏻");
    CHECK(emojiForSlackName("v::skin-tone-6") == "✌🏿");  // the modifier replaces the variation selector
    CHECK(!emojiForSlackName("party-parrot"));  // a workspace's own emoji
    CHECK(!emojiForSlackName("+1::skin-tone-9"));
}

TEST_CASE("Matrix emoji become Slack's canonical names, with or without a variation selector") {
    CHECK(slackNameForEmoji("👍") == "+1");
    CHECK(slackNameForEmoji("❤️") == "heart");
    CHECK(slackNameForEmoji("❤") == "heart");
    CHECK(slackNameForEmoji("👍🏽") == "+1::skin-tone-4");
    CHECK(slackNameForEmoji(":party-parrot:") == "party-parrot");  // what a Slack name comes back as
    CHECK(slackNameForEmoji(":+1::skin-tone-3:") == "+1::skin-tone-3");
    CHECK(!slackNameForEmoji(":not a name:"));
    CHECK(!slackNameForEmoji("+1"));  // text, not an emoji
    CHECK(!slackNameForEmoji("🫠🫠"));
}

TEST_CASE("every name in the table reads back as an emoji that maps to a name of the same emoji") {
    for (const char* name : {"joy", "tada", "white_check_mark", "eyes", "100", "star-struck", "warning"}) {
        auto emoji = emojiForSlackName(name);
        REQUIRE_MESSAGE(emoji, name);
        auto back = slackNameForEmoji(*emoji);
        REQUIRE_MESSAGE(back, name);
        CHECK(emojiForSlackName(*back) == emoji);
    }
}
