// Mentions: pills in HTML to names and back, and the `m.mentions` content property (spec:
// "User and room mentions").
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxbridge::format {

// Who a message mentions, for its `m.mentions`. Users keep their first-seen order, once each.
class Mentions {
public:
    void addUser(std::string_view userId);
    void mentionRoom() { room_ = true; }
    // The spec: "Users should not add their own Matrix ID"; a sender's own pill is dropped.
    void removeUser(std::string_view userId);

    const std::vector<std::string>& userIds() const { return userIds_; }
    bool room() const { return room_; }

    // {"user_ids":[...]} with "room":true when set; `{}` (still sent, as the spec recommends,
    // so legacy push rules don't fire) when empty.
    std::string toJson() const;

private:
    std::vector<std::string> userIds_;
    bool room_ = false;
};

// The users the pills in `html` point at, in order (user links only; rooms and events are
// not mentions of anyone).
Mentions mentionsInHtml(std::string_view html);

// `html`, cleaned (sanitizeHtml), with each user pill for which `nameFor` returns a name
// replaced by that name as text: for networks where the name itself highlights someone.
std::string replacePills(std::string_view html,
                         const std::function<std::optional<std::string>(const std::string& userId)>& nameFor);

// A name found in text, as the bridge's network matches names (IRC nicks fold case
// differently from XMPP resources, so the matching is the caller's).
struct NameMatch {
    std::size_t offset = 0;  // in the text given to the finder
    std::size_t length = 0;
    std::string userId;  // who the pill points at
};

// `html`, cleaned, with the names `findNames` reports in its text (outside links and code)
// turned into user pills showing the text as written.
std::string linkNames(std::string_view html,
                      const std::function<std::vector<NameMatch>(std::string_view text)>& findNames);

}  // namespace mxbridge::format
