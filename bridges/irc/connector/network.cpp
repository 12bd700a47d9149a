// One IRC network: bot connection, puppets, channel state (see network.h).
#include "network.h"

#include <boost/asio/post.hpp>

#include "mxbridge/irc/channel_name.h"
#include "mxbridge/irc/ctcp.h"
#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/nick.h"
#include "mxbridge/irc/source_address.h"
#include "mxbridge/irc/text_encoding.h"
#include "mxbridge/irc/text_split.h"

namespace mxbridge::irc {

namespace {

constexpr std::size_t kRecentLines = 64;
constexpr std::size_t kSentMemory = 2000;
constexpr auto kTick = std::chrono::seconds(5);
constexpr std::string_view kVersion = "mxbridge IRC bridge";

IrcConnectionOptions baseOptions(const NetworkConfig& c) {
    IrcConnectionOptions o;
    o.host = c.address;
    o.port = c.port;
    o.tls = c.tls;
    o.verifyCertificate = c.tlsVerify;
    o.serverPassword = c.password;
    o.floodBurst = c.floodBurst;
    o.floodInterval = std::chrono::milliseconds(c.floodIntervalMs);
    return o;
}

IrcMessage lineTo(const RemoteTarget& target, MessageKind kind, const std::string& text) {
    return kind == MessageKind::Emote    ? build::ctcpAction(target.ircTarget(), text)
           : kind == MessageKind::Notice ? build::notice(target.ircTarget(), text)
                                         : build::privmsg(target.ircTarget(), text);
}

Error notSent(const SendFailure& failure, const std::string& connectionTrouble) {
    return failure.error == SendError::QueueFull
               ? Error::permanent("irc_queue_full", "Not delivered to IRC: the connection has too much queued")
               : Error::permanent("irc_not_sent",
                                  "Not delivered to IRC: the connection was stopped (" + connectionTrouble + ")");
}

}  // namespace

IrcNetwork::IrcNetwork(const NetworkConfig& config, const IrcBridgeConfig& bridge, BridgeContext& ctx,
                       boost::asio::io_context& io, IdentServer* ident)
    : config_(config),
      bridge_(bridge),
      ctx_(ctx),
      connectedGauge_(ctx.metrics().gauge("mxbridge_remote_connections",
                                          "Connections to the remote network that are up, by network",
                                          {{"network", config.name}, {"state", "connected"}})),
      io_(io),
      log_(ctx.logger("irc." + config.name)),
      ledger_(ctx.kv(), config.name, ctx.logger("irc." + config.name)),
      netsplits_(std::chrono::seconds(config.netsplitDebounceSeconds)),
      tickTimer_(io) {
    isDefault_ = &bridge.defaultNetwork() == &config || bridge.defaultNetwork().name == config.name;
    ConnectionPoolOptions po;
    po.limiter.attemptsPerSecond = config.connectPerSecond;
    po.limiter.burst = config.connectBurst;
    po.ident = config.identEnabled ? ident : nullptr;
    pool_ = std::make_unique<ConnectionPool>(io, po);
    makeBot();
    restoreOwed();
}

IrcNetwork::~IrcNetwork() = default;

// --- Lifecycle (loop thread) ---------------------------------------------------------------------

void IrcNetwork::makeBot() {
    IrcConnectionOptions o = baseOptions(config_);
    o.nick = config_.botNick;
    o.username = usernameFor(config_.botNick, config_.botNick);
    o.realname = "Matrix bridge bot";
    if (!config_.botSaslPassword.empty()) o.sasl = SaslPlainCredentials{"", config_.botNick, config_.botSaslPassword};
    o.nickservPassword = config_.nickservPassword;
    o.maxQueuedLines = 10000;
    botNick_ = config_.botNick;
    IrcConnectionHandlers h;
    h.onMessage = [this](const IrcMessage& m) {
        std::lock_guard l(mutex_);
        if (!stopped_) onBotMessage(m);
    };
    h.onStateChange = [this](const StateChange& c) {
        std::lock_guard l(mutex_);
        if (!stopped_) onBotState(c);
    };
    h.onJoinFailure = [this](const JoinFailure& f) {
        std::lock_guard l(mutex_);
        log_.warn("bridge bot cannot join channel", {{"channel", f.channel}, {"numeric", f.numeric}, {"text", f.text}});
        noticeInPortal(channelRoomId(config_.name, f.channel),
                       "The bridge cannot join " + f.channel + " on " + config_.name + ": " + f.text +
                           " (" + f.numeric + "). Messages from IRC will not arrive until this is fixed.");
    };
    h.onSendFailure = [this](const SendFailure& f) {
        std::string trouble;
        {
            std::lock_guard l(mutex_);
            if (stopped_) return;  // a clean stop: the line stays owed for the next start
            trouble = std::string(stateName(botState_));
        }
        if (f.receipt == 0) log_.warn("bridge bot line not sent", {{"command", f.message.command}});
        else onLineFailed(f, trouble);
    };
    h.onSent = [this](std::uint64_t receipt) { ledger_.settled(receipt); };
    bot_ = pool_->create(o, std::move(h));
}

// Before the first hook (from the constructor): what the ircd had not confirmed when the
// bridge last stopped or crashed goes out first, in the order it was accepted.
void IrcNetwork::restoreOwed() {
    std::vector<OutboundLedger::Line> owed = ledger_.owed();  // reads the store: not under mutex_
    std::lock_guard lock(mutex_);
    for (const OutboundLedger::Line& line : owed) sendOwed(line);
}

void IrcNetwork::start() {
    std::lock_guard lock(mutex_);
    bot_.start();
    for (const ChannelConfig& c : config_.channels) {
        Channel& ch = channels_[foldName(c.name)];
        ch.name = c.name;
        ch.key = c.key;
        bot_.join(c.name, c.key);
    }
    for (const Link& link : ctx_.links().all()) {
        auto t = parseRemoteRoom(link.remote);
        if (!t || t->network != config_.name || !t->isChannel()) continue;
        std::string folded = foldName(t->channel);
        if (channels_.count(folded)) continue;
        Channel& ch = channels_[folded];
        ch.name = t->channel;
        if (link.options.contains("key") && link.options["key"].is_string()) ch.key = link.options["key"];
        bot_.join(ch.name, ch.key);
    }
    log_.info("network starting", {{"address", config_.address}, {"port", config_.port},
                                   {"channels", channels_.size()}, {"relay", config_.relay ? "yes" : "no"}});
    scheduleTick();
}

void IrcNetwork::stop() {
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        tickTimer_.cancel();
        for (auto& [id, edit] : pendingEdits_) edit.timer->cancel();
        for (auto& [id, w] : whois_) w.timer->cancel();
        for (auto& [id, c] : consents_) {
            c.timer->cancel();
            c.ask.tell("The bridge is restarting before an op of " + c.ask.channel + " answered request " + id +
                       "; " + c.ask.link.room.str() + " was not linked. Ask again once it is back.");
        }
        consents_.clear();
        // Each QUIT goes after the lines already written, so the server reads those first:
        // their receipts come as the connection closes, and only those still queued stay
        // owed. The connections live on until the loop ends, to be heard.
        for (auto& [user, p] : puppets_) {
            p->conn.stop("Bridge shutting down");
            closing_.push_back(std::move(p));
        }
        puppets_.clear();
        if (bot_) bot_.stop("Bridge shutting down");
        closingBot_ = std::move(bot_);
    }
}

bool IrcNetwork::connectionsDown() {
    std::lock_guard lock(mutex_);
    for (const auto& p : closing_)
        if (p->conn.state() != ConnectionState::Stopped) return false;
    return !closingBot_ || closingBot_.state() == ConnectionState::Stopped;
}

void IrcNetwork::scheduleTick() {
    // Short idle timeouts (tests, small deployments) are honoured to the second.
    bool shortIdle = config_.idleTimeoutSeconds > 0 && std::chrono::seconds(config_.idleTimeoutSeconds) < kTick;
    tickTimer_.expires_after(shortIdle ? std::chrono::seconds(1) : kTick);
    tickTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        tick();
    });
}

void IrcNetwork::tick() {
    std::vector<std::unique_ptr<Puppet>> idle;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        auto now = Clock::now();
        for (auto& [nick, channels] : netsplits_.expired(now))
            for (const auto& ch : channels)
                ghostLeft(ch, nick, RemoteMembership::Change::Leave, "Lost in a net-split");
        if (config_.idleTimeoutSeconds > 0) {
            for (auto it = puppets_.begin(); it != puppets_.end();) {
                // Lines still waiting for the flood control keep a puppet busy, not idle.
                if (now - it->second->lastActive > std::chrono::seconds(config_.idleTimeoutSeconds) &&
                    it->second->conn.info().queuedLines == 0) {
                    log_.info("puppet idle, disconnecting", {{"user", it->first.str()}});
                    puppetNicks_.erase(foldName(it->second->nick));
                    noteState(it->second->state, ConnectionState::Stopped);
                    idle.push_back(std::move(it->second));
                    it = puppets_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        scheduleTick();
    }
    for (auto& p : idle) retirePuppet(std::move(p), "Idle");
}

// --- IRC -> Matrix ---------------------------------------------------------------------------------

RemoteSender IrcNetwork::ghost(const std::string& nick) const {
    return RemoteSender{remoteUserId(config_.name, nick), ghostIdFor(config_.name, nick, isDefault_), nick,
                        std::nullopt};
}

bool IrcNetwork::isBotNick(const std::string& nick) const { return foldName(nick) == foldName(botNick_); }

PortalInfo IrcNetwork::channelPortal(const std::string& channel) const {
    PortalInfo p;
    p.id = channelRoomId(config_.name, channel);
    p.name = channel;
    p.aliasId = aliasIdFor(config_.name, channel, isDefault_);
    for (const ChannelConfig& c : config_.channels)
        if (foldName(c.name) == foldName(channel) && !c.aliasId.empty()) p.aliasId = c.aliasId;
    p.isPublic = true;
    return p;
}

RemoteMessageId IrcNetwork::nextRemoteId(const std::string& nick, const IrcMessage& msg) {
    std::string base = config_.name + "/" + foldName(nick) + "/";
    if (auto id = msg.tag("msgid"); id && !id->empty()) return RemoteMessageId(base + std::string(*id));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
    return RemoteMessageId(base + std::to_string(ms) + "-" + std::to_string(++counter_));
}

void IrcNetwork::noteState(ConnectionState& stored, ConnectionState next) {
    bool was = stored == ConnectionState::Connected, now = next == ConnectionState::Connected;
    if (was != now) connectedGauge_.add(now ? 1 : -1);
    stored = next;
}

void IrcNetwork::onBotState(const StateChange& change) {
    noteState(botState_, change.state);
    log_.info("bridge bot connection", {{"state", std::string(stateName(change.state))}, {"reason", change.reason}});
    if (change.state == ConnectionState::Banned || change.state == ConnectionState::BadCredentials) {
        for (auto& [folded, ch] : channels_)
            noticeInPortal(channelRoomId(config_.name, ch.name),
                           "The bridge bot cannot connect to " + config_.name + " (" +
                               std::string(stateName(change.state)) + ": " + change.reason +
                               "). Messages from IRC are not bridged until an admin runs !reconnect.");
    }
    if (change.state == ConnectionState::TransientDisconnect) {
        // Membership is re-read from NAMES after the rejoin.
        for (auto& [folded, ch] : channels_) {
            ch.namesDone = false;
            ch.namesBuffer.clear();
        }
    }
}

void IrcNetwork::onBotMessage(const IrcMessage& msg) {
    const std::string& cmd = msg.command;
    Source src = msg.sourceParts();
    if (cmd == "001") {
        botNick_ = msg.param(0);
        return;
    }
    if (cmd == "005") {
        serverRules_ = bot_.isupport();
        return;
    }
    if (cmd == "NICK" && isBotNick(src.nick)) {
        botNick_ = msg.param(0);
        return;
    }
    if (cmd == "PRIVMSG" || cmd == "NOTICE") {
        if (src.nick.empty() || src.isServer() || src.user.empty()) return;
        std::string target = msg.param(0);
        std::string text = decodeIrcText(msg.param(1));
        MessageKind kind = cmd == "NOTICE" ? MessageKind::Notice : MessageKind::Text;
        if (auto ctcp = parseCtcp(text)) {
            if (ctcp->command != "ACTION") {
                if (cmd == "PRIVMSG")
                    if (auto reply = ctcpReply(*ctcp, kVersion)) bot_.send(build::notice(src.nick, *reply));
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
        return;
    }
    if (cmd == "JOIN") {
        std::string chan = msg.param(0);
        std::string folded = foldName(chan);
        if (isBotNick(src.nick)) {
            Channel& ch = channels_[folded];
            ch.name = chan;
            ch.members.clear();
            ch.namesDone = false;
            return;
        }
        auto it = channels_.find(folded);
        if (it == channels_.end()) return;
        Member& m = it->second.members[foldName(src.nick)];
        m.nick = src.nick;
        m.modes.clear();
        if (isPuppetNick(foldName(src.nick))) return;
        if (netsplits_.rejoined(foldName(src.nick), folded)) return;
        if (!it->second.lazy) ghostJoined(it->second, src.nick);
        return;
    }
    if (cmd == "PART") {
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
        return;
    }
    if (cmd == "KICK") {
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
        if (auto p = puppetNicks_.find(foldName(victim)); p != puppetNicks_.end()) {
            auto pit = puppets_.find(p->second);
            if (pit != puppets_.end()) pit->second->channels.erase(folded);
            noticeInPortal(channelRoomId(config_.name, it->second.name),
                           p->second.str() + " was kicked from " + it->second.name + " on IRC by " + src.nick + ": " +
                               reason);
            return;
        }
        ghostLeft(folded, victim, RemoteMembership::Change::Kick, reason, src.nick);
        return;
    }
    if (cmd == "QUIT") {
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
        return;
    }
    if (cmd == "NICK") {
        std::string oldFolded = foldName(src.nick);
        std::string nick = msg.param(0);
        if (isPuppetNick(oldFolded)) return;
        for (auto& [name, ch] : channels_) {
            auto it = ch.members.find(oldFolded);
            if (it == ch.members.end()) continue;
            Member m = it->second;
            ch.members.erase(it);
            m.nick = nick;
            ch.members[foldName(nick)] = m;
            ghostLeft(name, src.nick, RemoteMembership::Change::Leave, "Now known as " + nick);
            ghostJoined(ch, nick);
            if (!m.modes.empty()) sendPowerLevels(ch, {foldName(nick)});
        }
        return;
    }
    if (cmd == "MODE") {
        std::string folded = foldName(msg.param(0));
        auto it = channels_.find(folded);
        if (it == channels_.end()) return;
        std::vector<std::string> args(msg.params.size() > 2 ? msg.params.begin() + 2 : msg.params.end(),
                                      msg.params.end());
        std::vector<std::string> changed;
        for (const ModeChange& c : parseModeChanges(msg.param(1), args, bot_.isupport())) {
            if (bot_.isupport().prefixModes().find(c.mode) == std::string::npos) continue;
            auto m = it->second.members.find(foldName(c.arg));
            if (m == it->second.members.end()) continue;
            if (c.add) m->second.modes.insert(c.mode);
            else m->second.modes.erase(c.mode);
            changed.push_back(m->first);
        }
        if (!changed.empty()) sendPowerLevels(it->second, changed);
        return;
    }
    if (cmd == "TOPIC" || cmd == "332") {
        std::string chan = cmd == "TOPIC" ? msg.param(0) : msg.param(1);
        std::string topic = decodeIrcText(cmd == "TOPIC" ? msg.param(1) : msg.param(2));
        auto it = channels_.find(foldName(chan));
        if (it == channels_.end()) return;
        if (cmd == "TOPIC" && (isBotNick(src.nick) || isPuppetNick(foldName(src.nick)))) {
            auto p = puppetNicks_.find(foldName(src.nick));
            // The echo of a Matrix user's change: Matrix has it already.
            if (takeTopic(it->first, p == puppetNicks_.end() ? nullptr : &p->second)) {
                it->second.topic = topic;
                return;
            }
        }
        if (it->second.topic == topic) return;
        it->second.topic = topic;
        RemoteRoomUpdate u;
        u.room = channelRoomId(config_.name, chan);
        if (cmd == "TOPIC" && !src.nick.empty() && !src.isServer() && !isBotNick(src.nick) &&
            !isPuppetNick(foldName(src.nick)))
            u.actor = ghost(src.nick);
        u.topic = ircStripFormatting(topic);
        ctx_.queueRemote(std::move(u));
        return;
    }
    if (cmd == "482" || cmd == "442") {  // ERR_CHANOPRIVSNEEDED, ERR_NOTONCHANNEL
        topicRefused(msg, nullptr);
        return;
    }
    if (cmd == "353") {  // RPL_NAMREPLY: me = #chan :names
        auto it = channels_.find(foldName(msg.param(2)));
        if (it == channels_.end()) return;
        if (it->second.namesDone) {
            it->second.namesDone = false;
            it->second.namesBuffer.clear();
        }
        std::string list = msg.param(3);
        std::size_t pos = 0;
        while (pos < list.size()) {
            auto end = list.find(' ', pos);
            if (end == std::string::npos) end = list.size();
            if (end > pos) it->second.namesBuffer.push_back(list.substr(pos, end - pos));
            pos = end + 1;
        }
        return;
    }
    if (cmd == "366") {  // RPL_ENDOFNAMES
        auto it = channels_.find(foldName(msg.param(1)));
        if (it == channels_.end()) return;
        Channel& ch = it->second;
        ch.members.clear();
        ch.lazy = config_.lazyMembersAbove > 0 && ch.namesBuffer.size() > static_cast<size_t>(config_.lazyMembersAbove);
        std::vector<std::string> ranked;
        for (const std::string& entry : ch.namesBuffer) {
            auto [nick, modes] = parseNamesEntry(entry, bot_.isupport());
            if (nick.empty()) continue;
            std::string folded = foldName(nick);
            ch.members[folded] = Member{nick, modes};
            if (isBotNick(nick) || isPuppetNick(folded)) continue;
            if (!ch.lazy) ghostJoined(ch, nick);
            if (!modes.empty()) ranked.push_back(folded);
        }
        ch.namesBuffer.clear();
        ch.namesDone = true;
        if (!ranked.empty()) sendPowerLevels(ch, ranked);
        askOpsOnceNamed(it->first);
        return;
    }
    // WHOIS replies: 311 user, 312 server, 319 channels, 330 account, 318 end, 401 no such nick.
    if (cmd == "311" || cmd == "312" || cmd == "319" || cmd == "330" || cmd == "318" || cmd == "401" ||
        cmd == "317" || cmd == "301") {
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
        return;
    }
}

void IrcNetwork::bridgeChannelText(const std::string& nick, const std::string& channel, const IrcMessage& msg,
                                   MessageKind kind, const std::string& text) {
    auto it = channels_.find(foldName(channel));
    if (it == channels_.end()) return;
    Channel& ch = it->second;
    if (ch.lazy && !ch.ghostsJoined.count(foldName(nick))) ghostJoined(ch, nick);
    FormattedText f = ircToHtml(text);
    std::map<std::string, std::string> mentionable;
    for (const auto& [folded, m] : ch.members) {
        if (isBotNick(m.nick) || folded == foldName(nick)) continue;
        auto p = puppetNicks_.find(folded);
        mentionable[m.nick] = p != puppetNicks_.end() ? p->second.str()
                                                      : ctx_.ghostUserId(ghostIdFor(config_.name, m.nick, isDefault_)).str();
    }
    std::string html = f.html.empty() ? escapeHtml(f.plain) : f.html;
    std::string linked = linkMentions(html, mentionable);
    RemoteMessage m;
    m.portal = channelPortal(ch.name);
    m.portal.topic = ircStripFormatting(ch.topic);
    m.sender = ghost(nick);
    m.id = nextRemoteId(nick, msg);
    m.kind = kind;
    m.body = f.plain;
    if (!f.html.empty() || linked != html) m.html = linked;
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::bridgeDirectText(Puppet& puppet, const std::string& nick, const IrcMessage& msg, MessageKind kind,
                                  const std::string& text) {
    FormattedText f = ircToHtml(text);
    RemoteMessage m;
    m.portal.id = directRoomId(config_.name, nick, puppet.user);
    m.portal.name = nick;
    m.portal.directWith = puppet.user;
    m.sender = ghost(nick);
    m.id = nextRemoteId(nick, msg);
    m.kind = kind;
    m.body = f.plain;
    if (!f.html.empty()) m.html = f.html;
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::ghostJoined(Channel& channel, const std::string& nick) {
    channel.ghostsJoined.insert(foldName(nick));
    RemoteMembership m;
    m.room = channelRoomId(config_.name, channel.name);
    m.user = ghost(nick);
    m.change = RemoteMembership::Change::Join;
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::ghostLeft(const std::string& channel, const std::string& nick, RemoteMembership::Change change,
                           const std::string& reason, const std::optional<std::string>& actor) {
    auto it = channels_.find(foldName(channel));
    if (it != channels_.end()) it->second.ghostsJoined.erase(foldName(nick));
    RemoteMembership m;
    m.room = channelRoomId(config_.name, channel);
    m.user = ghost(nick);
    m.change = change;
    m.reason = reason;
    if (actor && !isBotNick(*actor) && !isPuppetNick(foldName(*actor))) m.actor = ghost(*actor);
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::sendPowerLevels(Channel& channel, const std::vector<std::string>& folded) {
    RemotePowerLevels pl;
    pl.room = channelRoomId(config_.name, channel.name);
    for (const std::string& f : folded) {
        auto it = channel.members.find(f);
        if (it == channel.members.end() || isPuppetNick(f) || isBotNick(it->second.nick)) continue;
        pl.levels.emplace_back(ghost(it->second.nick), powerForModes(it->second.modes, config_.modesToPower));
    }
    if (!pl.levels.empty()) ctx_.queueRemote(std::move(pl));
}

void IrcNetwork::noticeInPortal(const RemoteRoomId& remote, const std::string& text) {
    OutgoingMessage n;
    n.kind = MessageKind::Notice;
    n.body = text;
    for (const Link& link : ctx_.links().forRemote(remote)) ctx_.bot().sendMessage(link.room, n);
}

// --- Puppets -------------------------------------------------------------------------------------

std::string IrcNetwork::puppetNickFor(const UserId& user, const std::string& displayName) {
    if (auto login = ctx_.users().login(user, config_.name); login && !login->remoteName.empty())
        return login->remoteName;
    std::string name = displayName.empty() ? std::string(localpartOf(user.str())) : displayName;
    return sanitizeNick(name, 30, config_.nickTemplate);
}

IrcNetwork::Puppet& IrcNetwork::puppetFor(const UserId& user, const std::string& displayName) {
    auto it = puppets_.find(user);
    if (it != puppets_.end()) {
        if (it->second->state == ConnectionState::Stopped) it->second->conn.start();
        return *it->second;
    }
    auto p = std::make_unique<Puppet>();
    p->user = user;
    p->displayName = displayName;
    p->nick = puppetNickFor(user, displayName);
    std::string localpart(localpartOf(user.str()));
    IrcConnectionOptions o = baseOptions(config_);
    o.nick = p->nick;
    o.username = usernameFor(config_.usernameTemplate, localpart);
    o.realname = fillTemplate(config_.realname, localpart, displayName.empty() ? localpart : displayName);
    o.quitMessage = "Matrix user left";
    if (auto login = ctx_.users().login(user, config_.name); login && !login->secret.empty()) {
        bool useSasl = config_.sasl;
        if (login->data.contains("auth") && login->data["auth"].is_string())
            useSasl = login->data["auth"].get<std::string>() == "sasl";
        std::string account = login->remoteName.empty() ? p->nick : login->remoteName;
        if (useSasl) o.sasl = SaslPlainCredentials{"", account, login->secret.reveal()};
        else o.nickservPassword = login->secret.reveal();
    }
    if (!config_.ipv6Prefix.empty()) {
        // A stable index per user, so each keeps their own source address across restarts.
        std::string key = "irc.addr." + config_.name + "." + user.str();
        uint64_t index = 0;
        if (auto v = ctx_.kv().get(key)) {
            index = std::stoull(*v);
        } else {
            std::string counterKey = "irc.addr." + config_.name + ".next";
            index = ctx_.kv().get(counterKey) ? std::stoull(*ctx_.kv().get(counterKey)) : 0;
            ctx_.kv().put(counterKey, std::to_string(index + 1));
            ctx_.kv().put(key, std::to_string(index));
        }
        std::string why;
        if (auto addr = addressInPrefix(config_.ipv6Prefix, index + 1, &why)) o.bindAddress = *addr;
        else log_.warn("no source address for puppet", {{"user", user.str()}, {"why", why}});
    }
    p->generation = ++puppetGeneration_;
    const uint64_t gen = p->generation;
    IrcConnectionHandlers h;
    h.onMessage = [this, user, gen](const IrcMessage& m) {
        std::lock_guard l(mutex_);
        if (isLive(user, gen)) onPuppetMessage(user, m);
    };
    h.onStateChange = [this, user, gen](const StateChange& c) {
        std::lock_guard l(mutex_);
        if (isLive(user, gen)) onPuppetState(user, c);
    };
    h.onSendFailure = [this, user](const SendFailure& f) {
        std::string trouble = "disconnected";
        {
            std::lock_guard l(mutex_);
            if (stopped_) return;  // a clean stop: the line stays owed for the next start
            if (auto it = puppets_.find(user); it != puppets_.end()) trouble = it->second->stateReason;
        }
        if (f.receipt == 0) log_.warn("puppet line not sent", {{"user", user.str()}, {"command", f.message.command}});
        else onLineFailed(f, trouble);
    };
    h.onSent = [this](std::uint64_t receipt) { ledger_.settled(receipt); };
    h.onJoinFailure = [this, user, gen](const JoinFailure& f) {
        std::lock_guard l(mutex_);
        if (!isLive(user, gen)) return;
        auto pit = puppets_.find(user);
        if (pit != puppets_.end()) pit->second->channels.erase(foldName(f.channel));
        noticeInPortal(channelRoomId(config_.name, f.channel),
                       user.str() + " cannot join " + f.channel + " on IRC: " + f.text + " (" + f.numeric +
                           "); their messages there are not delivered" +
                           (config_.syncMembers ? ", and IRC users cannot see that they read along." : "."));
    };
    p->conn = pool_->create(o, std::move(h));
    p->conn.start();
    puppetNicks_[foldName(p->nick)] = user;
    log_.info("puppet connecting", {{"user", user.str()}, {"nick", p->nick}});
    Puppet& ref = *p;
    puppets_[user] = std::move(p);
    return ref;
}

bool IrcNetwork::isLive(const UserId& user, uint64_t generation) const {
    if (stopped_) return false;
    auto it = puppets_.find(user);
    return it != puppets_.end() && it->second->generation == generation;
}

void IrcNetwork::retirePuppet(std::unique_ptr<Puppet> puppet, const std::string& reason, std::function<void()> then) {
    std::shared_ptr<Puppet> p(std::move(puppet));
    p->conn.stop(reason);
    auto timer = std::make_shared<boost::asio::steady_timer>(io_);
    // The QUIT is flushed within 2 s (IrcConnection::stop); a little more bounds the wait.
    boost::asio::post(io_, [this, p, timer, then = std::move(then)] {
        whenStopped(p, timer, Clock::now() + std::chrono::seconds(3), then);
    });
}

void IrcNetwork::whenStopped(std::shared_ptr<Puppet> puppet, std::shared_ptr<boost::asio::steady_timer> timer,
                             Clock::time_point deadline, std::function<void()> then) {
    if (puppet->conn.state() != ConnectionState::Stopped && Clock::now() < deadline) {
        timer->expires_after(std::chrono::milliseconds(50));
        timer->async_wait([this, puppet, timer, deadline, then](const boost::system::error_code& ec) {
            if (!ec) whenStopped(puppet, timer, deadline, then);
        });
        return;
    }
    if (then) then();
}

void IrcNetwork::onPuppetState(const UserId& user, const StateChange& change) {
    auto it = puppets_.find(user);
    if (it == puppets_.end()) return;
    Puppet& p = *it->second;
    noteState(p.state, change.state);
    p.stateReason = change.reason;
    if (change.state == ConnectionState::Connected) p.downSince.reset();
    else if (!p.downSince && change.state != ConnectionState::Connecting && change.state != ConnectionState::Registering)
        p.downSince = Clock::now();
    if (change.state == ConnectionState::Banned || change.state == ConnectionState::BadCredentials) {
        std::string what = change.state == ConnectionState::Banned ? "is banned from" : "was refused by";
        for (const auto& [folded, key] : p.channels)
            noticeInPortal(channelRoomId(config_.name, folded),
                           user.str() + "'s IRC connection " + what + " " + config_.name + ": " + change.reason +
                               ". Their messages are not delivered; fix it and run !reconnect (or !storepass).");
    }
}

void IrcNetwork::onLineFailed(const SendFailure& failure, const std::string& connectionTrouble) {
    if (auto origin = ledger_.failed(failure.receipt))
        ctx_.reportDeliveryFailure(origin->room, origin->event, notSent(failure, connectionTrouble));
}

void IrcNetwork::onPuppetMessage(const UserId& user, const IrcMessage& msg) {
    auto it = puppets_.find(user);
    if (it == puppets_.end()) return;
    Puppet& p = *it->second;
    Source src = msg.sourceParts();
    if (msg.command == "001") {
        puppetNicks_.erase(foldName(p.nick));
        p.nick = msg.param(0);
        puppetNicks_[foldName(p.nick)] = user;
        return;
    }
    if (msg.command == "NICK" && foldName(src.nick) == foldName(p.nick)) {
        puppetNicks_.erase(foldName(p.nick));
        p.nick = msg.param(0);
        puppetNicks_[foldName(p.nick)] = user;
        return;
    }
    if (msg.command == "482" || msg.command == "442") {
        topicRefused(msg, &user);
        return;
    }
    if ((msg.command == "PRIVMSG" || msg.command == "NOTICE") && !isChannelName(msg.param(0))) {
        if (src.nick.empty() || src.isServer() || src.user.empty()) return;
        if (foldName(msg.param(0)) != foldName(p.nick)) return;
        if (isBotNick(src.nick) || isPuppetNick(foldName(src.nick))) return;
        std::string text = decodeIrcText(msg.param(1));
        MessageKind kind = msg.command == "NOTICE" ? MessageKind::Notice : MessageKind::Text;
        if (auto ctcp = parseCtcp(text)) {
            if (ctcp->command != "ACTION") {
                if (msg.command == "PRIVMSG")
                    if (auto reply = ctcpReply(*ctcp, kVersion)) p.conn.send(build::notice(src.nick, *reply));
                return;
            }
            kind = MessageKind::Emote;
            text = ctcp->params;
        }
        // Services talk to everyone; their notices are not a conversation.
        if (kind == MessageKind::Notice && (foldName(src.nick) == "nickserv" || foldName(src.nick) == "chanserv"))
            return;
        bridgeDirectText(p, src.nick, msg, kind, text);
    }
}

std::optional<HookResult> IrcNetwork::deadPuppetResult(const Puppet& p) const {
    if (p.state == ConnectionState::Banned)
        return HookResult::failed(Error::permanent("irc_banned", "Your IRC connection is banned from " + config_.name +
                                                                     ": " + p.stateReason));
    if (p.state == ConnectionState::BadCredentials)
        return HookResult::failed(Error::permanent(
            "irc_bad_credentials", "The IRC server refused your credentials: " + p.stateReason +
                                       ". Fix them with !storepass or !removepass, then !reconnect."));
    if (p.downSince && Clock::now() - *p.downSince > std::chrono::seconds(config_.deadAfterSeconds))
        return HookResult::failed(Error::transient("irc_disconnected", "Your IRC connection to " + config_.name +
                                                                           " has been down since a while: " +
                                                                           p.stateReason));
    return std::nullopt;
}

// --- Matrix -> IRC ---------------------------------------------------------------------------------

std::optional<std::string> IrcNetwork::nickForUser(const std::string& userId) {
    std::lock_guard lock(mutex_);
    auto p = puppets_.find(UserId(userId));
    if (p != puppets_.end()) return p->second->nick;
    UserId id(userId);
    if (ctx_.isGhost(id)) {
        if (auto remote = ctx_.users().remoteForGhost(id)) {
            auto slash = remote->str().find('/');
            if (slash != std::string::npos && remote->str().substr(0, slash) == config_.name)
                return remote->str().substr(slash + 1);
        }
        // Unknown to the store: compare with the ghosts of the channel members we see.
        for (const auto& [name, ch] : channels_)
            for (const auto& [folded, m] : ch.members)
                if (ctx_.ghostUserId(ghostIdFor(config_.name, m.nick, isDefault_)) == id) return m.nick;
    }
    return std::nullopt;
}

std::vector<std::string> IrcNetwork::renderLines(const MatrixMessage& message, const RemoteTarget& target,
                                                 const std::string& prefix, bool& emote) {
    emote = message.kind == MessageKind::Emote;
    std::string text;
    if (message.media) {
        text = mediaLink(message.media->mxcUrl, bridge_.mediaBaseUrl);
        std::string name = message.media->fileName.empty() ? message.body : message.media->fileName;
        if (!name.empty() && name != text) text = name + " " + text;
    } else if (message.html) {
        text = htmlToIrc(replacePills(*message.html, [this](const std::string& u) {
            auto p = puppets_.find(UserId(u));
            if (p != puppets_.end()) return std::optional<std::string>(p->second->nick);
            if (auto r = ctx_.users().remoteForGhost(UserId(u))) {
                auto slash = r->str().find('/');
                if (slash != std::string::npos) return std::optional<std::string>(r->str().substr(slash + 1));
            }
            return std::optional<std::string>();
        }));
    } else {
        text = message.body;
    }
    if (message.replyTo) {
        if (config_.condense.replyOneLine) text = condenseLines(text);
        if (message.replyToRemote) {
            // The replied-to author is addressed, IRC style.
            std::string nick = currentNick(remoteAuthorNick(*message.replyToRemote));
            if (!nick.empty()) text = nick + ": " + text;
        }
    }
    std::size_t budget = maxPayloadBytes(target.ircTarget().size(), 0, emote);
    budget = budget > prefix.size() + kMinSplitBytes ? budget - prefix.size() : kMinSplitBytes;
    return splitForIrc(text, budget);
}

void IrcNetwork::sendDurably(OutboundLedger::Line line) {
    ledger_.stage(line);
    sendOwed(line);
}

IrcConnection* IrcNetwork::connectionFor(const std::string& connection, const std::string& senderName,
                                         const RemoteTarget& target, bool create) {
    if (connection.empty()) return &bot_;
    Puppet* puppet = nullptr;
    if (create) {
        puppet = &puppetFor(UserId(connection), senderName);
    } else if (auto it = puppets_.find(UserId(connection)); it != puppets_.end()) {
        puppet = it->second.get();
    }
    if (!puppet) return nullptr;
    if (target.isChannel()) {
        auto ch = channels_.find(foldName(target.channel));
        joinPuppet(*puppet, ch != channels_.end() ? ch->second.name : target.channel);
    }
    return &puppet->conn;
}

void IrcNetwork::sendOwed(const OutboundLedger::Line& line) {
    auto target = parseRemoteRoom(line.target);
    auto message = line.paste ? std::optional<IrcMessage>() : IrcMessage::parse(line.wire);
    if (!target || (!line.paste && !message)) {
        log_.error("IRC line owed cannot be sent; dropped", {{"target", line.target.str()}, {"line", line.wire}});
        ledger_.failed(line.seq);
        ctx_.reportDeliveryFailure(line.room, line.event,
                                   Error::permanent("irc_not_sent", "The bridge could not read it back to send it"));
        return;
    }
    if (line.paste) {
        connectionFor(line.connection, line.senderName, *target, true);
        sendPaste(line, *target);
        return;
    }
    connectionFor(line.connection, line.senderName, *target, true)->send(std::move(*message), line.seq);
}

void IrcNetwork::sendPaste(const OutboundLedger::Line& line, const RemoteTarget& target) {
    ctx_.bot().uploadMedia(line.paste->body, "text/plain; charset=utf-8", "message.txt",
                           [this, line, target](Result<std::string> r) {
        std::lock_guard l(mutex_);
        if (stopped_) return;  // stays owed for the next start
        IrcConnection* conn = connectionFor(line.connection, line.senderName, target, false);
        if (!conn) {
            ledger_.failed(line.seq);
            ctx_.reportDeliveryFailure(line.room, line.event,
                                       Error::permanent("irc_not_sent", "Your IRC connection went away"));
            return;
        }
        const OutboundLedger::Paste& paste = *line.paste;
        if (r.ok()) {
            conn->send(lineTo(target, paste.kind,
                              paste.head + " … (" + std::to_string(paste.wires.size()) + " lines: " +
                                  mediaLink(*r, bridge_.mediaBaseUrl) + ")"),
                       line.seq);
            return;
        }
        log_.warn("paste upload failed; sending every line", {{"error", r.error().message}});
        std::vector<PasteFallbackLine> lines = pasteFallbackLines(line);
        if (lines.empty()) {  // settled as failed, not owed again at every restart
            ledger_.failed(line.seq);
            ctx_.reportDeliveryFailure(line.room, line.event,
                                       Error::permanent("irc_not_sent", "The message has no line IRC can carry"));
            return;
        }
        for (PasteFallbackLine& l : lines) conn->send(std::move(l.message), l.receipt);
    });
}

HookResult IrcNetwork::sendMessage(const MatrixMessage& message, const RemoteTarget& target) {
    std::lock_guard lock(mutex_);
    bool relay = relayFor(message.room, target);
    if (target.isChannel()) ensureChannelLocked(target.channel);
    Puppet* puppet = nullptr;
    std::string prefix;
    if (relay) {
        if (botState_ == ConnectionState::Banned || botState_ == ConnectionState::BadCredentials)
            return HookResult::failed(Error::permanent("irc_relay_down", "The bridge bot is not connected to " +
                                                                             config_.name + "."));
        prefix = relayPrefix(message.senderName, message.kind == MessageKind::Emote);
    } else {
        puppet = &puppetFor(message.sender, message.senderName);
        if (auto dead = deadPuppetResult(*puppet)) return *dead;
        puppet->lastActive = Clock::now();
        if (target.isChannel()) joinPuppet(*puppet, target.channel);
    }
    bool emote = false;
    std::vector<std::string> lines = renderLines(message, target, prefix, emote);
    MessageKind kind = message.kind == MessageKind::Notice ? MessageKind::Notice
                       : emote && !relay                   ? MessageKind::Emote
                                                           : MessageKind::Text;
    std::string nick = relay ? botNick_ : puppet->nick;
    RemoteMessageId id(config_.name + "/" + foldName(nick) + "/m:" + message.event.eventId().str());
    const RemoteRoomId remote = target.isChannel() ? channelRoomId(config_.name, target.channel)
                                                   : directRoomId(config_.name, target.nick, target.matrixUser);
    // Staged with the event's done mark: replies and reactions to it later name its author.
    ctx_.eventMappings().map(message.room, message.event.eventId(), remote, id);
    const OutboundLedger::Line base{.seq = 0,
                                    .connection = relay ? std::string() : message.sender.str(),
                                    .senderName = message.senderName,
                                    .room = message.room,
                                    .event = message.event.eventId(),
                                    .target = remote,
                                    .wire = {},
                                    .paste = std::nullopt};
    if (lines.size() > static_cast<size_t>(config_.condense.maxLinesBeforePaste)) {
        // Too long for IRC: one line with a link to the whole text.
        OutboundLedger::Line paste = base;
        paste.paste = OutboundLedger::Paste{.body = message.body, .head = prefix + lines.front(), .kind = kind, .wires = {}};
        for (const auto& line : lines) paste.paste->wires.push_back(lineTo(target, kind, prefix + line).serialize());
        sendDurably(std::move(paste));
    } else {
        for (const auto& line : lines) {
            OutboundLedger::Line one = base;
            one.wire = lineTo(target, kind, prefix + line).serialize();
            sendDurably(std::move(one));
        }
    }
    sentAt_[message.event.eventId()] = Clock::now();
    sentOrder_.push_back(message.event.eventId());
    if (sentOrder_.size() > kSentMemory) {
        sentAt_.erase(sentOrder_.front());
        sentOrder_.pop_front();
    }
    return HookResult::delivered(id);
}

HookResult IrcNetwork::sendEdit(const MatrixEdit& edit, const RemoteTarget& target) {
    std::lock_guard lock(mutex_);
    auto sent = sentAt_.find(edit.target);
    if (sent == sentAt_.end() ||
        Clock::now() - sent->second > std::chrono::seconds(config_.condense.editWindowSeconds))
        return HookResult::unsupported("Edits of older messages are not sent to IRC.");
    std::string text = edit.newHtml ? htmlToIrc(*edit.newHtml) : edit.newBody;
    text = condenseLines(text);
    auto [it, fresh] = pendingEdits_.try_emplace(edit.target);
    PendingEdit& p = it->second;
    p.text = text;
    p.target = target;
    p.sender = edit.sender;
    p.room = edit.room;
    p.event = edit.event.eventId();
    if (fresh) {
        p.timer = std::make_shared<boost::asio::steady_timer>(io_);
        p.timer->expires_after(std::chrono::milliseconds(config_.condense.editDebounceMs));
        EventId key = edit.target;
        p.timer->async_wait([this, key](const boost::system::error_code& ec) {
            if (!ec) sendEditNow(key);
        });
    }
    return HookResult::delivered();
}

void IrcNetwork::sendEditNow(const EventId& target) {
    std::lock_guard lock(mutex_);
    auto it = pendingEdits_.find(target);
    if (it == pendingEdits_.end() || stopped_) return;
    PendingEdit e = std::move(it->second);
    pendingEdits_.erase(it);
    IrcConnection* conn = &bot_;
    std::string prefix;
    if (config_.relay) {
        prefix = relayPrefix(e.sender.str(), false);
    } else {
        auto p = puppets_.find(e.sender);
        if (p == puppets_.end()) {
            ctx_.reportDeliveryFailure(e.room, e.event, Error::permanent("irc_not_sent", "Your IRC connection went away"));
            return;
        }
        conn = &p->second->conn;
    }
    std::size_t budget = maxPayloadBytes(e.target.ircTarget().size(), 0, false);
    budget = budget > prefix.size() + 2 + kMinSplitBytes ? budget - prefix.size() - 2 : kMinSplitBytes;
    auto lines = splitForIrc(e.text, budget);
    if (lines.empty()) return;
    // Sent after its hook returned, so not in the ledger: a crash within the debounce loses
    // it. Its sender still hears when the connection gives it up.
    std::uint64_t receipt = ledger_.track({config_.relay ? std::string() : e.sender.str(), e.room, e.event});
    conn->send(lineTo(e.target, MessageKind::Text, prefix + "* " + lines.front()), receipt);
}

HookResult IrcNetwork::memberChanged(const MatrixMembership& change, const RemoteTarget& target) {
    std::lock_guard lock(mutex_);
    if (change.isGhost || change.isBot || !target.isChannel()) return HookResult::ignored();
    std::string folded = foldName(target.channel);
    if (change.membership == "join") {
        ensureChannelLocked(target.channel);
        if (relayFor(change.room, target) || !config_.syncMembers) return HookResult::delivered();
        joinPuppet(puppetFor(change.target, change.displayName), target.channel);
        return HookResult::delivered();
    }
    if (change.membership == "leave" || change.membership == "ban") {
        auto it = puppets_.find(change.target);
        if (it == puppets_.end() || !it->second->channels.erase(folded)) return HookResult::ignored();
        it->second->conn.part(target.channel, change.membership == "ban" ? "Banned on Matrix" : "Left the Matrix room");
        return HookResult::delivered();
    }
    return HookResult::ignored();
}

HookResult IrcNetwork::sendReaction(const MatrixReaction& reaction, const RemoteTarget& target) {
    if (!config_.reactionsAsActions) return HookResult::ignored();
    std::lock_guard lock(mutex_);
    std::string about = reaction.targetRemote ? currentNick(remoteAuthorNick(*reaction.targetRemote)) : std::string();
    std::string text = reactionAction(reaction.key, about);
    OutboundLedger::Line line{.seq = 0,
                              .connection = {},
                              .senderName = {},
                              .room = reaction.room,
                              .event = reaction.event.eventId(),
                              .target = target.isChannel() ? channelRoomId(config_.name, target.channel)
                                                           : directRoomId(config_.name, target.nick, target.matrixUser),
                              .wire = {},
                              .paste = std::nullopt};
    if (relayFor(reaction.room, target)) {
        line.wire = lineTo(target, MessageKind::Text, relayPrefix(localpartOf(reaction.sender.str()), true) + text).serialize();
        sendDurably(std::move(line));
        return HookResult::delivered();
    }
    Puppet& puppet = puppetFor(reaction.sender, "");
    if (auto dead = deadPuppetResult(puppet)) return *dead;
    puppet.lastActive = Clock::now();
    if (target.isChannel()) joinPuppet(puppet, target.channel);
    line.connection = reaction.sender.str();
    line.wire = lineTo(target, MessageKind::Emote, text).serialize();
    sendDurably(std::move(line));
    return HookResult::delivered();
}

std::string IrcNetwork::currentNick(const std::string& folded) const {
    if (auto p = puppetNicks_.find(folded); p != puppetNicks_.end())
        if (auto it = puppets_.find(p->second); it != puppets_.end()) return it->second->nick;
    for (const auto& [name, ch] : channels_)
        if (auto m = ch.members.find(folded); m != ch.members.end()) return m->second.nick;
    return folded;
}

bool IrcNetwork::relayFor(const RoomId& room, const RemoteTarget& target) {
    if (!target.isChannel()) return config_.relay;
    for (const Link& l : ctx_.links().forRoom(room))
        if (l.remote == channelRoomId(config_.name, target.channel) && l.options.contains("relay") &&
            l.options["relay"].is_boolean())
            return l.options["relay"].get<bool>();
    return config_.relay;
}

void IrcNetwork::joinPuppet(Puppet& puppet, const std::string& channel) {
    std::string folded = foldName(channel);
    if (puppet.channels.count(folded)) return;
    auto ch = channels_.find(folded);
    std::string key = ch != channels_.end() ? ch->second.key : std::string();
    puppet.channels[folded] = key;
    puppet.conn.join(channel, key);
}

HookResult IrcNetwork::setTopic(const MatrixStateChange& change, const RemoteTarget& target, const std::string& topic) {
    std::lock_guard lock(mutex_);
    const std::string folded = foldName(target.channel);
    const std::string text = condenseLines(topic);
    ensureChannelLocked(target.channel);
    IrcConnection* conn = &bot_;
    bool viaBot = relayFor(change.room, target);
    if (!viaBot) {
        Puppet& puppet = puppetFor(change.sender, "");
        if (auto dead = deadPuppetResult(puppet)) return *dead;
        puppet.lastActive = Clock::now();
        joinPuppet(puppet, target.channel);
        conn = &puppet.conn;
    }
    topics_.push_back(PendingTopic{folded, change.room, change.sender, viaBot});
    if (topics_.size() > kRecentLines) topics_.erase(topics_.begin());
    conn->send(build::topic(target.channel, text));
    return HookResult::delivered();
}

std::optional<IrcNetwork::PendingTopic> IrcNetwork::takeTopic(const std::string& channel, const UserId* user) {
    for (auto it = topics_.begin(); it != topics_.end(); ++it) {
        if (it->channel != channel || it->viaBot != (user == nullptr) || (user && it->user != *user)) continue;
        PendingTopic t = *it;
        topics_.erase(it);
        return t;
    }
    return std::nullopt;
}

void IrcNetwork::topicRefused(const IrcMessage& msg, const UserId* user) {
    auto t = takeTopic(foldName(msg.param(1)), user);
    if (!t) return;
    OutgoingMessage n;
    n.kind = MessageKind::Notice;
    n.body = t->user.str() + ": your topic change was not applied on IRC: " + decodeIrcText(msg.param(2)) + " (" +
             msg.command + "). The IRC topic of " + msg.param(1) + " is unchanged.";
    ctx_.bot().sendMessage(t->room, n);
}

void IrcNetwork::ensureChannel(const std::string& channel, const std::string& key) {
    std::lock_guard lock(mutex_);
    ensureChannelLocked(channel, key);
}

void IrcNetwork::refreshMembers(const std::string& channel) {
    std::lock_guard lock(mutex_);
    refreshMembersLocked(channel);
}

void IrcNetwork::refreshMembersLocked(const std::string& channel) {
    auto it = channels_.find(foldName(channel));
    // Not named yet: the NAMES that comes with the bot's JOIN does it.
    if (it == channels_.end() || !it->second.namesDone || !bot_) return;
    IrcMessage names;
    names.command = "NAMES";
    names.params = {it->second.name};
    bot_.send(std::move(names));
}

void IrcNetwork::ensureChannelLocked(const std::string& channel, const std::string& key) {
    std::string folded = foldName(channel);
    auto it = channels_.find(folded);
    if (it != channels_.end()) {
        if (!key.empty() && it->second.key != key) {
            it->second.key = key;
            bot_.join(it->second.name, key);
        }
        return;
    }
    Channel& ch = channels_[folded];
    ch.name = channel;
    ch.key = key;
    if (bot_) bot_.join(channel, key);
}

std::optional<std::string> IrcNetwork::channelProblem(const std::string& channel) {
    std::lock_guard lock(mutex_);
    return channelNameProblem(channel, serverRules_);
}

// --- Commands ------------------------------------------------------------------------------------

void IrcNetwork::setNick(const UserId& user, const std::string& nick, std::function<void(const std::string&)> reply) {
    if (!isValidNick(nick, 30)) {
        reply("\"" + nick + "\" is not a valid IRC nick.");
        return;
    }
    Login login = ctx_.users().login(user, config_.name).value_or(Login{user, config_.name, "", {}, {}});
    login.remoteName = nick;
    ctx_.users().saveLogin(login);
    std::lock_guard lock(mutex_);
    auto it = puppets_.find(user);
    // Not a plain NICK line: the connection registers with it after every reconnect too.
    if (it != puppets_.end()) it->second->conn.changeNick(nick);
    reply("Your nick on " + config_.name + " is now " + nick + ".");
}

void IrcNetwork::whois(const std::string& nick, std::function<void(const std::string&)> reply) {
    std::lock_guard lock(mutex_);
    std::string folded = foldName(nick);
    if (whois_.count(folded)) {
        reply("A WHOIS for " + nick + " is already running.");
        return;
    }
    PendingWhois& w = whois_[folded];
    w.reply = std::move(reply);
    w.timer = std::make_shared<boost::asio::steady_timer>(io_);
    w.timer->expires_after(std::chrono::seconds(15));
    w.timer->async_wait([this, folded](const boost::system::error_code& ec) {
        if (ec) return;
        std::lock_guard l(mutex_);
        auto it = whois_.find(folded);
        if (it == whois_.end()) return;
        it->second.reply(it->second.text.empty() ? "No WHOIS answer from " + config_.name + "." : it->second.text);
        whois_.erase(it);
    });
    bot_.send(build::whois(nick));
}

void IrcNetwork::reconnectPuppet(const UserId& user, std::function<void(const std::string&)> reply) {
    std::unique_ptr<Puppet> old;
    std::map<std::string, std::string> channels;
    std::string name;
    {
        std::lock_guard lock(mutex_);
        auto it = puppets_.find(user);
        if (it != puppets_.end()) {
            old = std::move(it->second);
            channels = old->channels;
            name = old->displayName;
            puppetNicks_.erase(foldName(old->nick));
            noteState(old->state, ConnectionState::Stopped);
            puppets_.erase(it);
        }
    }
    // The new connection registers once the old one is gone, or the server still holds the nick.
    auto connect = [this, user, name, channels] {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        Puppet& p = puppetFor(user, name);
        for (const auto& [folded, key] : channels) {
            auto ch = channels_.find(folded);
            p.channels[folded] = key;
            p.conn.join(ch != channels_.end() ? ch->second.name : folded, key);
        }
    };
    if (old) retirePuppet(std::move(old), "Reconnecting", connect);
    else boost::asio::post(io_, connect);
    reply("Reconnecting to " + config_.name + ".");
}

void IrcNetwork::quitPuppet(const UserId& user, std::function<void(const std::string&)> reply) {
    std::unique_ptr<Puppet> old;
    {
        std::lock_guard lock(mutex_);
        auto it = puppets_.find(user);
        if (it == puppets_.end()) {
            reply("You have no connection to " + config_.name + ".");
            return;
        }
        old = std::move(it->second);
        puppetNicks_.erase(foldName(old->nick));
        noteState(old->state, ConnectionState::Stopped);
        puppets_.erase(it);
    }
    retirePuppet(std::move(old), "Quit");
    reply("Disconnected from " + config_.name + ". Your next message reconnects.");
}

void IrcNetwork::sendRaw(const std::string& line, std::function<void(const std::string&)> reply) {
    std::string why;
    auto msg = IrcMessage::parse(line, &why);
    if (!msg) {
        reply("Not an IRC line: " + why);
        return;
    }
    std::lock_guard lock(mutex_);
    bot_.send(*msg);
    reply("Sent to " + config_.name + " as the bridge bot: " + msg->serialize());
}

std::string IrcNetwork::status() {
    std::lock_guard lock(mutex_);
    std::string s = config_.name + ": bot " + std::string(stateName(botState_)) + " as " + botNick_ + ", " +
                    std::to_string(channels_.size()) + " channels, " + std::to_string(puppets_.size()) + " puppets";
    return s;
}

}  // namespace mxbridge::irc
