// What the bridge bot knows of one IRC channel it sits in: who is there with which prefix
// modes (from NAMES, JOIN, PART, KICK, QUIT, NICK and MODE), its key and topic. Plain state:
// the network's inbound handlers decide what each change means for Matrix.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mapping.h"
#include "mxbridge/irc/isupport.h"

namespace mxbridge::irc {

struct ChannelMember {
    std::string nick;  // as last seen
    std::set<char> modes;
};

class ChannelState {
public:
    std::string name;  // as the server spells it
    std::string key;
    std::map<std::string, ChannelMember> members;  // folded nick
    bool namesDone = false;  // the last NAMES ended; members is complete
    bool lazy = false;       // above lazy_members_above: ghosts join Matrix when they speak
    std::set<std::string> ghostsJoined;  // lazy channels: who Matrix has seen
    std::string topic;

    // The bot (re)joined: membership is read again from the NAMES that follows.
    void rejoined(const std::string& channelName);
    // Membership is read again from the next NAMES (after a reconnect).
    void forgetNames();
    // `nick` joined: a member without modes.
    void joined(const std::string& nick);
    // One 353 line's names ("@alice +bob carol"); a NAMES after a finished one starts over.
    void addNames(std::string_view list);
    // 366: the buffered names become the members (with their prefix modes), in the order
    // the server gave them. A channel with more than `lazyAbove` names (> 0) becomes lazy.
    std::vector<ChannelMember> finishNames(const ISupport& isupport, int lazyAbove);
    // NICK: the member `oldFolded` is now `nick`; their entry, if they are here.
    std::optional<ChannelMember> renamed(const std::string& oldFolded, const std::string& nick);
    // MODE: the prefix modes among `changes` applied to members; the folded nicks changed.
    std::vector<std::string> applyModes(const std::vector<ModeChange>& changes, std::string_view prefixModes);
    // Whether member `foldedNick` is an op (o, q or a): who may approve a link.
    bool isOp(const std::string& foldedNick) const;

private:
    std::vector<std::string> namesBuffer_;
};

}  // namespace mxbridge::irc
