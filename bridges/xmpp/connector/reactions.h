// Reactions (XEP-0444) as XMPP carries them: each update is the sender's whole set of
// reactions to one line, so the bridge remembers the sets to tell what was added and what
// taken back, and sends Matrix users' reactions as whole sets too. Used by MUC portals and
// 1:1 chats alike. Not thread-safe: one owner.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/xmpp/element.h"

namespace mxbridge::xmpp {

inline constexpr std::string_view kReactionsNs = "urn:xmpp:reactions:0";

// The reactions of a <reactions/> element: at most 20 distinct keys of 64 bytes or fewer, so
// a hostile client cannot make the bridge send thousands of events.
std::vector<std::string> readReactions(const Element& reactions);

// <reactions id='line'> with `keys`, the child to add to a message.
Element reactionsElement(const std::string& line, const std::vector<std::string>& keys);

class ReactionSets {
public:
    struct Change {
        std::vector<std::string> added;
        std::vector<std::string> removed;
    };
    // `who`'s set on `line` is now `keys`: what that adds and takes back.
    Change replace(const std::string& who, const std::string& line, std::vector<std::string> keys);
    // `who`'s set on `line` with `key` added (or taken out): the whole set to send.
    std::vector<std::string> add(const std::string& who, const std::string& line, const std::string& key);
    std::vector<std::string> remove(const std::string& who, const std::string& line, const std::string& key);

    // A Matrix user's reaction event, remembered so redacting it takes it back.
    struct Sent {
        std::string who;
        std::string line;
        std::string key;
    };
    void rememberSent(const std::string& event, Sent sent);
    std::optional<Sent> takeSent(const std::string& event);

private:
    static constexpr std::size_t kRemembered = 10'000;  // sets and reaction events, each
    void store(const std::string& setKey, std::vector<std::string> keys);
    std::vector<std::string> current(const std::string& setKey) const;

    std::map<std::string, std::vector<std::string>> sets_;  // by "<who>\n<line>"
    std::deque<std::string> setOrder_;
    std::map<std::string, Sent> sent_;
    std::deque<std::string> sentOrder_;
};

}  // namespace mxbridge::xmpp
