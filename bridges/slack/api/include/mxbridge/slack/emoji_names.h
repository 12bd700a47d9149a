// Slack names its emoji (reactions carry "thumbsup", "+1::skin-tone-3"); Matrix reactions carry
// the emoji itself ("👍🏼"). The common ones both ways; a Slack name the table lacks (a custom
// workspace emoji, a rare one) has no character, and the caller shows it as ":name:".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::slack {

// The emoji of a Slack name, skin tone included ("+1::skin-tone-2" → 👍🏻); nullopt when unknown.
std::optional<std::string> emojiForSlackName(std::string_view name);

// The Slack name of an emoji (with or without its variation selector U+FE0F, with a skin tone
// as "::skin-tone-N"), or of ":name:" text (name as given); nullopt when there is none known.
std::optional<std::string> slackNameForEmoji(std::string_view emoji);

}  // namespace mxbridge::slack
