// Formatting between Slack and Matrix. Slack clients send what the user typed as `rich_text`
// blocks (structured: styled text, links, mentions, emoji, code blocks, quotes, lists) beside
// the flattened `text`; those become Matrix HTML through mxbridge/format's safe writer. Going
// the other way, a Matrix formatted_body is read with mxbridge/format's reader and written as
// Slack mrkdwn (*bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <url|links>).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mxbridge::slack {

struct RichTextNames {
    // A Slack user id as its Matrix pill: the ghost's user id and display name; nullopt
    // shows "@" and the id as text.
    std::function<std::optional<std::pair<std::string, std::string>>(std::string_view userId)> userPill;
    // A channel id's name for "#name"; empty shows the id.
    std::function<std::string(std::string_view channelId)> channelName;
};

// The Matrix formatted_body for a message's `blocks`; nullopt when they hold no rich_text
// (apps' posts, or text without formatting), so `text` alone is bridged.
std::optional<std::string> richTextToHtml(const nlohmann::json& blocks, const RichTextNames& names);

// A Matrix user id in a pill as the Slack user it stands for ("U…"), when it is a ghost.
using SlackUserOfPill = std::function<std::optional<std::string>(std::string_view matrixUserId)>;

// Slack mrkdwn for a Matrix formatted_body, with &, < and > escaped in text; a pill of a
// Slack user's ghost becomes a real mention (<@U…>), any other pill its text.
std::string htmlToMrkdwn(std::string_view html, const SlackUserOfPill& slackUserOf);

}  // namespace mxbridge::slack
