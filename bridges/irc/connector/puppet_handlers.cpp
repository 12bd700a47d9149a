// What a puppet hears: its own nick, topic refusals, and private messages to its user (see
// network.h). Channel traffic is the bot's to bridge. One handler per IRC command, found
// through puppetHandlers(); each runs on the loop thread under the network's mutex.
#include "network.h"

#include "mxbridge/irc/ctcp.h"
#include "mxbridge/irc/text_encoding.h"

namespace mxbridge::irc {

const std::unordered_map<std::string_view, IrcNetwork::PuppetHandler>& IrcNetwork::puppetHandlers() {
    static const std::unordered_map<std::string_view, PuppetHandler> table = {
        {"001", &IrcNetwork::onPuppetWelcome},
        {"NICK", &IrcNetwork::onPuppetNick},
        {"482", &IrcNetwork::onPuppetTopicRefused},  // ERR_CHANOPRIVSNEEDED
        {"442", &IrcNetwork::onPuppetTopicRefused},  // ERR_NOTONCHANNEL
        {"PRIVMSG", &IrcNetwork::onPuppetText},
        {"NOTICE", &IrcNetwork::onPuppetText},
    };
    return table;
}

void IrcNetwork::onPuppetMessage(const UserId& user, const IrcMessage& msg) {
    Puppet* p = puppets_.find(user);
    if (!p) return;
    const auto& table = puppetHandlers();
    auto it = table.find(msg.command);
    if (it == table.end()) return;
    (this->*(it->second))(*p, msg, msg.sourceParts());
}

void IrcNetwork::onPuppetWelcome(Puppet& p, const IrcMessage& msg, const Source&) { puppets_.renamed(p, msg.param(0)); }

void IrcNetwork::onPuppetNick(Puppet& p, const IrcMessage& msg, const Source& src) {
    if (foldName(src.nick) == foldName(p.nick)) puppets_.renamed(p, msg.param(0));
}

void IrcNetwork::onPuppetTopicRefused(Puppet& p, const IrcMessage& msg, const Source&) { topicRefused(msg, &p.user); }

void IrcNetwork::onPuppetText(Puppet& p, const IrcMessage& msg, const Source& src) {
    if (isChannelName(msg.param(0))) return;
    if (src.nick.empty() || src.isServer() || src.user.empty()) return;
    if (foldName(msg.param(0)) != foldName(p.nick)) return;
    if (isBotNick(src.nick) || isPuppetNick(foldName(src.nick))) return;
    std::string text = decodeIrcText(msg.param(1));
    MessageKind kind = msg.command == "NOTICE" ? MessageKind::Notice : MessageKind::Text;
    if (auto ctcp = parseCtcp(text)) {
        if (ctcp->command != "ACTION") {
            if (msg.command == "PRIVMSG")
                if (auto reply = ctcpReply(*ctcp, kCtcpVersion)) p.conn.send(build::notice(src.nick, *reply));
            return;
        }
        kind = MessageKind::Emote;
        text = ctcp->params;
    }
    // Services talk to everyone; their notices are not a conversation.
    if (kind == MessageKind::Notice && (foldName(src.nick) == "nickserv" || foldName(src.nick) == "chanserv")) return;
    bridgeDirectText(p, src.nick, msg, kind, text);
}

}  // namespace mxbridge::irc
