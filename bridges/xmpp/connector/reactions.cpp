#include "reactions.h"

#include <algorithm>

namespace mxbridge::xmpp {

namespace {
constexpr std::size_t kMaxKeys = 20;
constexpr std::size_t kMaxKeyBytes = 64;

bool contains(const std::vector<std::string>& keys, const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

template <typename Map>
void bounded(Map& map, std::deque<std::string>& order, std::size_t limit) {
    while (order.size() > limit) {
        map.erase(order.front());
        order.pop_front();
    }
}
}  // namespace

std::vector<std::string> readReactions(const Element& reactions) {
    std::vector<std::string> keys;
    for (const Element* reaction : reactions.children("reaction", kReactionsNs)) {
        std::string key = reaction->text();
        if (key.empty() || key.size() > kMaxKeyBytes || contains(keys, key)) continue;
        keys.push_back(std::move(key));
        if (keys.size() == kMaxKeys) break;
    }
    return keys;
}

Element reactionsElement(const std::string& line, const std::vector<std::string>& keys) {
    Element reactions("reactions", std::string(kReactionsNs));
    reactions.setAttr("id", line);
    for (const std::string& key : keys) reactions.addChild("reaction", std::string(kReactionsNs)).addText(key);
    return reactions;
}

ReactionSets::Change ReactionSets::replace(const std::string& who, const std::string& line,
                                           std::vector<std::string> keys) {
    std::string setKey = who + "\n" + line;
    std::vector<std::string> before = current(setKey);
    Change change;
    for (const std::string& key : before)
        if (!contains(keys, key)) change.removed.push_back(key);
    for (const std::string& key : keys)
        if (!contains(before, key)) change.added.push_back(key);
    store(setKey, std::move(keys));
    return change;
}

std::vector<std::string> ReactionSets::add(const std::string& who, const std::string& line, const std::string& key) {
    std::string setKey = who + "\n" + line;
    std::vector<std::string> keys = current(setKey);
    if (!contains(keys, key)) keys.push_back(key);
    store(setKey, keys);
    return keys;
}

std::vector<std::string> ReactionSets::remove(const std::string& who, const std::string& line,
                                              const std::string& key) {
    std::string setKey = who + "\n" + line;
    std::vector<std::string> keys = current(setKey);
    std::erase(keys, key);
    store(setKey, keys);
    return keys;
}

void ReactionSets::rememberSent(const std::string& event, Sent sent) {
    if (sent_.insert_or_assign(event, std::move(sent)).second) sentOrder_.push_back(event);
    bounded(sent_, sentOrder_, kRemembered);
}

std::optional<ReactionSets::Sent> ReactionSets::takeSent(const std::string& event) {
    auto it = sent_.find(event);
    if (it == sent_.end()) return std::nullopt;
    Sent sent = std::move(it->second);
    sent_.erase(it);
    return sent;
}

void ReactionSets::store(const std::string& setKey, std::vector<std::string> keys) {
    if (sets_.insert_or_assign(setKey, std::move(keys)).second) setOrder_.push_back(setKey);
    bounded(sets_, setOrder_, kRemembered);
}

std::vector<std::string> ReactionSets::current(const std::string& setKey) const {
    auto it = sets_.find(setKey);
    return it == sets_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace mxbridge::xmpp
