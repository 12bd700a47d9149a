// A message's `text` as Slack writes it and as Matrix plain text: Slack escapes &, < and > as
// entities and uses <…> for mentions and links (<@U123>, <#C123|general>, <!here>,
// <https://x|label>); text the bridge posts must escape the same three characters, or a
// Matrix user's "<!channel>" would notify a whole Slack channel.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace mxbridge::slack {

// The display name for a user id, for mentions; an empty answer shows the id.
using UserNamer = std::function<std::string(std::string_view userId)>;

// Slack's text as readable plain text: entities decoded, <@U1> as "@name", <#C1|general> as
// "#general", <!here> as "@here", <https://x|label> as "label (https://x)", <https://x> as
// the URL. Formatting marks (*bold*, _italic_) are left as typed.
std::string slackTextToPlain(std::string_view text, const UserNamer& nameOf);

// Plain text for Slack's `text`: &, < and > as &amp;, &lt;, &gt;, so nothing in it becomes a
// mention, a channel-wide notification or a link it did not already spell out.
std::string escapeForSlack(std::string_view text);

}  // namespace mxbridge::slack
