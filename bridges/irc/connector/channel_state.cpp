// One IRC channel as the bridge bot sees it (see channel_state.h).
#include "channel_state.h"

namespace mxbridge::irc {

void ChannelState::rejoined(const std::string& channelName) {
    name = channelName;
    members.clear();
    namesDone = false;
}

void ChannelState::forgetNames() {
    namesDone = false;
    namesBuffer_.clear();
}

void ChannelState::joined(const std::string& nick) {
    ChannelMember& m = members[foldName(nick)];
    m.nick = nick;
    m.modes.clear();
}

void ChannelState::addNames(std::string_view list) {
    if (namesDone) forgetNames();
    std::size_t pos = 0;
    while (pos < list.size()) {
        auto end = list.find(' ', pos);
        if (end == std::string_view::npos) end = list.size();
        if (end > pos) namesBuffer_.emplace_back(list.substr(pos, end - pos));
        pos = end + 1;
    }
}

std::vector<ChannelMember> ChannelState::finishNames(const ISupport& isupport, int lazyAbove) {
    members.clear();
    lazy = lazyAbove > 0 && namesBuffer_.size() > static_cast<std::size_t>(lazyAbove);
    std::vector<ChannelMember> named;
    for (const std::string& entry : namesBuffer_) {
        auto [nick, modes] = parseNamesEntry(entry, isupport);
        if (nick.empty()) continue;
        members[foldName(nick)] = ChannelMember{nick, modes};
        named.push_back(ChannelMember{nick, modes});
    }
    namesBuffer_.clear();
    namesDone = true;
    return named;
}

std::optional<ChannelMember> ChannelState::renamed(const std::string& oldFolded, const std::string& nick) {
    auto it = members.find(oldFolded);
    if (it == members.end()) return std::nullopt;
    ChannelMember m = it->second;
    members.erase(it);
    m.nick = nick;
    members[foldName(nick)] = m;
    return m;
}

std::vector<std::string> ChannelState::applyModes(const std::vector<ModeChange>& changes,
                                                  std::string_view prefixModes) {
    std::vector<std::string> changed;
    for (const ModeChange& c : changes) {
        if (prefixModes.find(c.mode) == std::string_view::npos) continue;
        auto m = members.find(foldName(c.arg));
        if (m == members.end()) continue;
        if (c.add) m->second.modes.insert(c.mode);
        else m->second.modes.erase(c.mode);
        changed.push_back(m->first);
    }
    return changed;
}

bool ChannelState::isOp(const std::string& foldedNick) const {
    auto m = members.find(foldedNick);
    if (m == members.end()) return false;
    const std::set<char>& modes = m->second.modes;
    return modes.count('o') || modes.count('q') || modes.count('a');
}

}  // namespace mxbridge::irc
