// What the bridge bot hears: the only source of channel traffic toward Matrix (see
// network.h). One handler per IRC command, found through botHandlers(); each runs on the
// loop thread under the network's mutex.
#include "network.h"

#include "mxbridge/irc/ctcp.h"
#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/text_encoding.h"

namespace mxbridge::irc {

const std::unordered_map<std::string_view, IrcNetwork::BotHandler>& IrcNetwork::botHandlers() {
    static const std::unordered_map<std::string_view, BotHandler> table = {
        {"001", &IrcNetwork::onBotWelcome},
        {"005", &IrcNetwork::onBotISupport},
        {"NICK", &IrcNetwork::onNick},
        {"PRIVMSG", &IrcNetwork::onText},
        {"NOTICE", &IrcNetwork::onText},
        {"JOIN", &IrcNetwork::onJoin},
        {"PART", &IrcNetwork::onPart},
        {"KICK", &IrcNetwork::onKick},
        {"QUIT", &IrcNetwork::onQuit},
        {"MODE", &IrcNetwork::onMode},
        {"TOPIC", &IrcNetwork::onTopic},
        {"332", &IrcNetwork::onTopic},             // RPL_TOPIC
        {"482", &IrcNetwork::onBotTopicRefused},  // ERR_CHANOPRIVSNEEDED
        {"442", &IrcNetwork::onBotTopicRefused},  // ERR_NOTONCHANNEL
        {"353", &IrcNetwork::onNames},             // RPL_NAMREPLY
        {"366", &IrcNetwork::onEndOfNames},        // RPL_ENDOFNAMES
        // WHOIS replies: 311 user, 312 server, 319 channels, 330 account, 317 idle, 301 away,
        // 318 end, 401 no such nick.
        {"311", &IrcNetwork::onWhoisReply},
        {"312", &IrcNetwork::onWhoisReply},
        {"319", &IrcNetwork::onWhoisReply},
        {"330", &IrcNetwork::onWhoisReply},
        {"317", &IrcNetwork::onWhoisReply},
        {"301", &IrcNetwork::onWhoisReply},
        {"318", &IrcNetwork::onWhoisReply},
        {"401", &IrcNetwork::onWhoisReply},
    };
    return table;
}

void IrcNetwork::onBotMessage(const IrcMessage& msg) {
    const auto& table = botHandlers();
    auto it = table.find(msg.command);
    if (it == table.end()) return;
    (this->*(it->second))(msg, msg.sourceParts());
}

void IrcNetwork::onBotWelcome(const IrcMessage& msg, const Source&) { botNick_ = msg.param(0); }

void IrcNetwork::onBotISupport(const IrcMessage&, const Source&) { serverRules_ = bot_.isupport(); }

void IrcNetwork::onText(const IrcMessage& msg, const Source& src) {
    const std::string& cmd = msg.command;
    if (src.nick.empty() || src.isServer() || src.user.empty()) return;
    std::string target = msg.param(0);
    std::string text = decodeIrcText(msg.param(1));
    MessageKind kind = cmd == "NOTICE" ? MessageKind::Notice : MessageKind::Text;
    if (auto ctcp = parseCtcp(text)) {
        if (ctcp->command != "ACTION") {
            if (cmd == "PRIVMSG")
                if (auto reply = ctcpReply(*ctcp, kCtcpVersion)) bot_.send(build::notice(src.nick, *reply));
            return;
        }
        kind = MessageKind::Emote;
        text = ctcp->params;
    }
    if (isBotNick(src.nick) || isPuppetNick(foldName(src.nick))) return;  // our own echoes
    if (isChannelName(target)) bridgeChannelText(src.nick, target, msg, kind, text);
    // Private messages to the bot have no Matrix reader (puppets receive their own), but
    // an op may be answering a link request.
    else if (cmd == "PRIVMSG" && kind == MessageKind::Text) onConsentAnswer(src.nick, text);
}

void IrcNetwork::onJoin(const IrcMessage& msg, const Source& src) {
    std::string chan = msg.param(0);
    std::string folded = foldName(chan);
    if (isBotNick(src.nick)) {
        channels_[folded].rejoined(chan);
        return;
    }
    auto it = channels_.find(folded);
    if (it == channels_.end()) return;
    it->second.joined(src.nick);
    if (isPuppetNick(foldName(src.nick))) return;
    if (netsplits_.rejoined(foldName(src.nick), folded)) return;
    if (!it->second.lazy) ghostJoined(it->second, src.nick);
}

void IrcNetwork::onPart(const IrcMessage& msg, const Source& src) {
    std::string folded = foldName(msg.param(0));
    if (isBotNick(src.nick)) {
        channels_.erase(folded);
        return;
    }
    auto it = channels_.find(folded);
    if (it == channels_.end()) return;
    it->second.members.erase(foldName(src.nick));
    if (!isPuppetNick(foldName(src.nick)))
        ghostLeft(folded, src.nick, RemoteMembership::Change::Leave, decodeIrcText(msg.param(1)));
}

void IrcNetwork::onKick(const IrcMessage& msg, const Source& src) {
    std::string folded = foldName(msg.param(0));
    std::string victim = msg.param(1);
    std::string reason = decodeIrcText(msg.param(2));
    auto it = channels_.find(folded);
    if (it == channels_.end()) return;
    if (isBotNick(victim)) {
        noticeInPortal(channelRoomId(config_.name, it->second.name),
                       "The bridge bot was kicked from " + it->second.name + " by " + src.nick + ": " + reason +
                           ". Messages from IRC are not bridged until it is back (!join).");
        channels_.erase(it);
        return;
    }
    it->second.members.erase(foldName(victim));
    if (const UserId* user = puppets_.userForNick(foldName(victim))) {
        if (Puppet* p = puppets_.find(*user)) p->channels.erase(folded);
        noticeInPortal(channelRoomId(config_.name, it->second.name),
                       user->str() + " was kicked from " + it->second.name + " on IRC by " + src.nick + ": " + reason);
        return;
    }
    ghostLeft(folded, victim, RemoteMembership::Change::Kick, reason, src.nick);
}

void IrcNetwork::onQuit(const IrcMessage& msg, const Source& src) {
    std::string folded = foldName(src.nick);
    std::set<std::string> in;
    for (auto& [name, ch] : channels_)
        if (ch.members.erase(folded)) in.insert(name);
    if (isPuppetNick(folded) || in.empty()) return;
    std::string reason = decodeIrcText(msg.param(0));
    if (config_.netsplitDebounceSeconds > 0 && isNetsplitQuit(reason)) {
        netsplits_.quit(folded, in, Clock::now());
        return;
    }
    for (const auto& ch : in) ghostLeft(ch, src.nick, RemoteMembership::Change::Leave, "Quit: " + reason);
}

void IrcNetwork::onNick(const IrcMessage& msg, const Source& src) {
    if (isBotNick(src.nick)) {
        botNick_ = msg.param(0);
        return;
    }
    std::string oldFolded = foldName(src.nick);
    std::string nick = msg.param(0);
    if (isPuppetNick(oldFolded)) return;
    for (auto& [name, ch] : channels_) {
        auto m = ch.renamed(oldFolded, nick);
        if (!m) continue;
        ghostLeft(name, src.nick, RemoteMembership::Change::Leave, "Now known as " + nick);
        ghostJoined(ch, nick);
        if (!m->modes.empty()) sendPowerLevels(ch, {foldName(nick)});
    }
}

void IrcNetwork::onMode(const IrcMessage& msg, const Source&) {
    auto it = channels_.find(foldName(msg.param(0)));
    if (it == channels_.end()) return;
    std::vector<std::string> args(msg.params.size() > 2 ? msg.params.begin() + 2 : msg.params.end(),
                                  msg.params.end());
    std::vector<std::string> changed = it->second.applyModes(parseModeChanges(msg.param(1), args, bot_.isupport()),
                                                             bot_.isupport().prefixModes());
    if (!changed.empty()) sendPowerLevels(it->second, changed);
}

void IrcNetwork::onTopic(const IrcMessage& msg, const Source& src) {
    const bool live = msg.command == "TOPIC";  // else 332, the topic as the bot joins
    std::string chan = live ? msg.param(0) : msg.param(1);
    std::string topic = decodeIrcText(live ? msg.param(1) : msg.param(2));
    auto it = channels_.find(foldName(chan));
    if (it == channels_.end()) return;
    if (live && (isBotNick(src.nick) || isPuppetNick(foldName(src.nick)))) {
        // The echo of a Matrix user's change: Matrix has it already.
        if (takeTopic(it->first, puppets_.userForNick(foldName(src.nick)))) {
            it->second.topic = topic;
            return;
        }
    }
    if (it->second.topic == topic) return;
    it->second.topic = topic;
    RemoteRoomUpdate u;
    u.room = channelRoomId(config_.name, chan);
    if (live && !src.nick.empty() && !src.isServer() && !isBotNick(src.nick) && !isPuppetNick(foldName(src.nick)))
        u.actor = ids_.ghost(src.nick);
    u.topic = ircStripFormatting(topic);
    ctx_.queueRemote(std::move(u));
}

void IrcNetwork::onBotTopicRefused(const IrcMessage& msg, const Source&) { topicRefused(msg, nullptr); }

void IrcNetwork::onNames(const IrcMessage& msg, const Source&) {  // me = #chan :names
    auto it = channels_.find(foldName(msg.param(2)));
    if (it == channels_.end()) return;
    it->second.addNames(msg.param(3));
}

void IrcNetwork::onEndOfNames(const IrcMessage& msg, const Source&) {
    auto it = channels_.find(foldName(msg.param(1)));
    if (it == channels_.end()) return;
    ChannelState& ch = it->second;
    std::vector<std::string> ranked;
    for (const ChannelMember& m : ch.finishNames(bot_.isupport(), config_.lazyMembersAbove)) {
        std::string folded = foldName(m.nick);
        if (isBotNick(m.nick) || isPuppetNick(folded)) continue;
        if (!ch.lazy) ghostJoined(ch, m.nick);
        if (!m.modes.empty()) ranked.push_back(folded);
    }
    if (!ranked.empty()) sendPowerLevels(ch, ranked);
    askOpsOnceNamed(it->first);
}

void IrcNetwork::onWhoisReply(const IrcMessage& msg, const Source&) {
    const std::string& cmd = msg.command;
    auto it = whois_.find(foldName(msg.param(1)));
    if (it == whois_.end()) return;
    PendingWhois& w = it->second;
    if (cmd == "311") w.text += msg.param(1) + " is " + msg.param(2) + "@" + msg.param(3) + " (" +
                                decodeIrcText(msg.param(5)) + ")\n";
    else if (cmd == "312") w.text += "on server " + msg.param(2) + "\n";
    else if (cmd == "319") w.text += "in " + msg.param(2) + "\n";
    else if (cmd == "330") w.text += "logged in as " + msg.param(2) + "\n";
    else if (cmd == "301") w.text += "away: " + decodeIrcText(msg.param(2)) + "\n";
    else if (cmd == "317") w.text += "idle " + msg.param(2) + " s\n";
    else if (cmd == "401") w.text += msg.param(1) + ": no such nick\n";
    if (cmd == "318" || cmd == "401") {
        w.timer->cancel();
        w.reply(w.text.empty() ? msg.param(1) + ": no answer" : w.text);
        whois_.erase(it);
    }
}

}  // namespace mxbridge::irc
