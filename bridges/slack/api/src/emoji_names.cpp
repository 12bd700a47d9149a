#include "mxbridge/slack/emoji_names.h"

#include <array>
#include <utility>

namespace mxbridge::slack {

namespace {

// Slack's names of the emoji people react with most, the canonical name first where Slack has
// several (reaction events carry the canonical one). The emoji as Matrix clients send it
// (with U+FE0F where it has one).
constexpr std::pair<std::string_view, std::string_view> kEmoji[] = {
    {"+1", "👍"}, {"thumbsup", "👍"}, {"-1", "👎"}, {"thumbsdown", "👎"},
    {"heart", "❤️"}, {"joy", "😂"}, {"smile", "😄"}, {"grinning", "😀"}, {"laughing", "😆"},
    {"satisfied", "😆"}, {"smiley", "😃"}, {"grin", "😁"}, {"wink", "😉"}, {"blush", "😊"},
    {"slightly_smiling_face", "🙂"}, {"upside_down_face", "🙃"}, {"heart_eyes", "😍"},
    {"sweat_smile", "😅"}, {"rolling_on_the_floor_laughing", "🤣"}, {"sunglasses", "😎"},
    {"smirk", "😏"}, {"neutral_face", "😐"}, {"expressionless", "😑"}, {"unamused", "😒"},
    {"face_with_rolling_eyes", "🙄"}, {"hugging_face", "🤗"}, {"star-struck", "🤩"},
    {"partying_face", "🥳"}, {"thinking_face", "🤔"}, {"grimacing", "😬"}, {"confused", "😕"},
    {"slightly_frowning_face", "🙁"}, {"disappointed", "😞"}, {"cry", "😢"}, {"sob", "😭"},
    {"rage", "😡"}, {"angry", "😠"}, {"scream", "😱"}, {"open_mouth", "😮"}, {"hushed", "😯"},
    {"sleeping", "😴"}, {"yum", "😋"}, {"stuck_out_tongue", "😛"}, {"innocent", "😇"},
    {"kissing_heart", "😘"}, {"nerd_face", "🤓"}, {"exploding_head", "🤯"}, {"zipper_mouth_face", "🤐"},
    {"skull", "💀"}, {"hankey", "💩"}, {"poop", "💩"}, {"ghost", "👻"}, {"robot_face", "🤖"},
    {"see_no_evil", "🙈"}, {"face_palm", "🤦"}, {"shrug", "🤷"},
    {"tada", "🎉"}, {"eyes", "👀"}, {"fire", "🔥"}, {"rocket", "🚀"}, {"pray", "🙏"}, {"clap", "👏"},
    {"100", "💯"}, {"wave", "👋"}, {"ok_hand", "👌"}, {"raised_hands", "🙌"}, {"muscle", "💪"},
    {"handshake", "🤝"}, {"raised_hand", "✋"}, {"v", "✌️"}, {"crossed_fingers", "🤞"},
    {"point_up", "☝️"}, {"point_down", "👇"}, {"point_left", "👈"}, {"point_right", "👉"},
    {"white_check_mark", "✅"}, {"heavy_check_mark", "✔️"}, {"ballot_box_with_check", "☑️"},
    {"x", "❌"}, {"heavy_multiplication_x", "✖️"}, {"no_entry", "⛔"}, {"no_entry_sign", "🚫"},
    {"warning", "⚠️"}, {"question", "❓"}, {"exclamation", "❗"}, {"heavy_exclamation_mark", "❗"},
    {"heavy_plus_sign", "➕"}, {"heavy_minus_sign", "➖"}, {"arrow_up", "⬆️"}, {"arrow_down", "⬇️"},
    {"arrow_right", "➡️"}, {"repeat", "🔁"}, {"star", "⭐"}, {"sparkles", "✨"}, {"zap", "⚡"},
    {"boom", "💥"}, {"bulb", "💡"}, {"memo", "📝"}, {"pushpin", "📌"}, {"link", "🔗"},
    {"hourglass", "⌛"}, {"speech_balloon", "💬"}, {"mega", "📣"}, {"bell", "🔔"}, {"calendar", "📆"},
    {"trophy", "🏆"}, {"red_circle", "🔴"}, {"large_green_circle", "🟢"},
    {"broken_heart", "💔"}, {"yellow_heart", "💛"}, {"green_heart", "💚"}, {"blue_heart", "💙"},
    {"purple_heart", "💜"}, {"orange_heart", "🧡"}, {"black_heart", "🖤"},
    {"coffee", "☕"}, {"beer", "🍺"}, {"beers", "🍻"}, {"birthday", "🎂"}, {"cake", "🍰"},
    {"gift", "🎁"}, {"pizza", "🍕"}, {"taco", "🌮"}, {"popcorn", "🍿"},
    {"sunny", "☀️"}, {"rainbow", "🌈"}, {"snowflake", "❄️"}, {"seedling", "🌱"},
    {"dog", "🐶"}, {"cat", "🐱"}, {"unicorn_face", "🦄"}, {"bug", "🐛"},
};

// Skin tones 2..6: U+1F3FB..U+1F3FF.
constexpr std::array<std::string_view, 5> kSkinTones = {"🏻", "🏼", "🏽", "🏾", "🏿"};
constexpr std::string_view kSkinToneSuffix = "::skin-tone-";
constexpr std::string_view kVariationSelector = "\xEF\xB8\x8F";  // U+FE0F

std::string withoutVariationSelectors(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.substr(i, kVariationSelector.size()) == kVariationSelector) {
            i += kVariationSelector.size();
            continue;
        }
        out.push_back(text[i++]);
    }
    return out;
}

bool isNameText(std::string_view name) {
    if (name.empty() || name.size() > 100) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' || c == '\''))
            return false;
    return true;
}

}  // namespace

std::optional<std::string> emojiForSlackName(std::string_view name) {
    std::string_view tone;
    if (std::size_t at = name.find(kSkinToneSuffix); at != std::string_view::npos) {
        std::string_view digit = name.substr(at + kSkinToneSuffix.size());
        if (digit.size() != 1 || digit[0] < '2' || digit[0] > '6') return std::nullopt;
        tone = kSkinTones[static_cast<std::size_t>(digit[0] - '2')];
        name = name.substr(0, at);
    }
    for (const auto& [slackName, emoji] : kEmoji) {
        if (slackName != name) continue;
        if (tone.empty()) return std::string(emoji);
        // A modifier follows the base character directly, in place of its variation selector.
        return withoutVariationSelectors(emoji) + std::string(tone);
    }
    return std::nullopt;
}

std::optional<std::string> slackNameForEmoji(std::string_view emoji) {
    if (emoji.size() > 2 && emoji.front() == ':' && emoji.back() == ':') {
        std::string_view name = emoji.substr(1, emoji.size() - 2);
        std::string_view base = name.substr(0, name.find(kSkinToneSuffix));
        if (isNameText(base) && (base.size() == name.size() || emojiForSlackName(name))) return std::string(name);
        return std::nullopt;
    }
    std::string bare = withoutVariationSelectors(emoji);
    std::string suffix;
    for (std::size_t i = 0; i < kSkinTones.size(); ++i) {
        std::string_view tone = kSkinTones[i];
        if (bare.size() > tone.size() && bare.compare(bare.size() - tone.size(), tone.size(), tone) == 0) {
            bare.resize(bare.size() - tone.size());
            suffix = std::string(kSkinToneSuffix) + std::to_string(i + 2);
            break;
        }
    }
    for (const auto& [slackName, known] : kEmoji)
        if (withoutVariationSelectors(known) == bare) return std::string(slackName) + suffix;
    return std::nullopt;
}

}  // namespace mxbridge::slack
