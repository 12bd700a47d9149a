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

Error notSent(const SendFailure& failure, const std::string& connectionTrouble) {
    return failure.error == SendError::QueueFull
               ? Error::permanent("irc_queue_full", "Not delivered to IRC: the connection has too much queued")
               : Error::permanent("irc_not_sent",
                                  "Not delivered to IRC: the connection was stopped (" + connectionTrouble + ")");
}

// An IRC connection's state as BridgeContext::reportState takes it: registering is still
// connecting; the reason (the server's ERROR text, the SASL numeric...) goes along.
RemoteStatus remoteStatusOf(const StateChange& change) {
    RemoteState state = RemoteState::Connecting;
    switch (change.state) {
        case ConnectionState::Connecting:
        case ConnectionState::Registering: state = RemoteState::Connecting; break;
        case ConnectionState::Connected: state = RemoteState::Connected; break;
        case ConnectionState::TransientDisconnect: state = RemoteState::TransientDisconnect; break;
        case ConnectionState::Banned: state = RemoteState::Banned; break;
        case ConnectionState::BadCredentials: state = RemoteState::BadCredentials; break;
        case ConnectionState::Stopped: state = RemoteState::Stopped; break;
    }
    return RemoteStatus{.state = state, .reason = change.reason, .code = {}};
}

}  // namespace

IrcNetwork::IrcNetwork(const NetworkConfig& config, const IrcBridgeConfig& bridge, BridgeContext& ctx,
                       boost::asio::io_context& io, IdentServer* ident)
    : config_(config),
      bridge_(bridge),
      ctx_(ctx),
      io_(io),
      log_(ctx.logger("irc." + config.name)),
      isDefault_(&bridge.defaultNetwork() == &config || bridge.defaultNetwork().name == config.name),
      ids_(config.name, isDefault_),
      renderer_(config_, bridge, &ctx.media()),
      ledger_(ctx.kv(), config.name, ctx.logger("irc." + config.name)),
      puppets_(config_, [this](const UserId& user, uint64_t generation, IrcConnectionOptions options) {
          return makePuppetConnection(user, generation, std::move(options));
      }),
      netsplits_(std::chrono::seconds(config.netsplitDebounceSeconds)),
      tickTimer_(io) {
    ConnectionPoolOptions po;
    po.limiter.attemptsPerSecond = config.connectPerSecond;
    po.limiter.burst = config.connectBurst;
    po.ident = config.identEnabled ? ident : nullptr;
    pool_ = std::make_unique<ConnectionPool>(io, po);
    makeBot();
    restoreOwed();
}

IrcNetwork::~IrcNetwork() = default;

IrcNetwork::AfterUnlock::~AfterUnlock() {
    for (auto& call : calls_) {
        try {
            call();
        } catch (const std::exception& e) {
            log_.error("a framework call after a network change failed", {{"error", e.what()}});
        }
    }
}

// --- Lifecycle (loop thread) ---------------------------------------------------------------------

void IrcNetwork::makeBot() {
    IrcConnectionOptions o = networkConnectionOptions(config_);
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
        {
            std::lock_guard l(mutex_);
            if (!stopped_) onBotState(c);
        }
        reportBotState(c);  // after a stop too: its Stopped is the last word
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
    // The store is read here, not under mutex_: the lines, and what their puppets need.
    std::vector<OutboundLedger::Line> owed = ledger_.owed();
    SetupsReadAhead setups;
    for (const OutboundLedger::Line& line : owed)
        if (!line.connection.empty() && !setups.count(UserId(line.connection)))
            setups.emplace(UserId(line.connection), puppetSetup(UserId(line.connection)));
    AfterUnlock later(log_);
    std::lock_guard lock(mutex_);
    for (const OutboundLedger::Line& line : owed) sendOwed(line, later, &setups);
}

void IrcNetwork::start() {
    std::lock_guard lock(mutex_);
    bot_.start();
    for (const ChannelConfig& c : config_.channels) {
        ChannelState& ch = channels_[foldName(c.name)];
        ch.name = c.name;
        ch.key = c.key;
        bot_.join(c.name, c.key);
    }
    for (const Link& link : ctx_.links().all()) {
        auto t = parseRemoteRoom(link.remote);
        if (!t || t->network != config_.name || !t->isChannel()) continue;
        std::string folded = foldName(t->channel);
        if (channels_.count(folded)) continue;
        ChannelState& ch = channels_[folded];
        ch.name = t->channel;
        if (link.options.contains("key") && link.options["key"].is_string()) ch.key = link.options["key"];
        bot_.join(ch.name, ch.key);
    }
    log_.info("network starting", {{"address", config_.address}, {"port", config_.port},
                                   {"channels", channels_.size()}, {"relay", config_.relay ? "yes" : "no"}});
    scheduleTick();
}

void IrcNetwork::stop() {
    std::vector<std::pair<UserId, std::optional<RemoteClientHandle>>> stoppedPuppets;
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
        for (auto& p : puppets_.takeWhere([](const Puppet&) { return true; })) {
            p->conn.stop("Bridge shutting down");
            stoppedPuppets.emplace_back(p->user, p->login);
            closing_.push_back(std::move(p));
        }
        if (bot_) bot_.stop("Bridge shutting down");
        closingBot_ = std::move(bot_);
    }
    // Taken out of the registry, the puppets' own Stopped would not be reported; the bot's
    // comes from its connection as it closes.
    for (const auto& [user, login] : stoppedPuppets)
        reportPuppetState(user, login, StateChange{.state = ConnectionState::Stopped, .reason = "Bridge shutting down"});
}

bool IrcNetwork::connectionsDown() {
    std::lock_guard lock(mutex_);
    if (!quitting_.empty()) return false;  // logged out just before the stop: their QUITs too
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
    std::vector<std::unique_ptr<Puppet>> released;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        auto now = Clock::now();
        for (auto& [nick, channels] : netsplits_.expired(now))
            for (const auto& ch : channels)
                ghostLeft(ch, nick, RemoteMembership::Change::Leave, "Lost in a net-split");
        if (config_.idleTimeoutSeconds > 0) {
            // Lines still waiting for the flood control keep a puppet busy, not idle.
            idle = puppets_.takeWhere([&](const Puppet& p) {
                return now - p.lastActive > std::chrono::seconds(config_.idleTimeoutSeconds) &&
                       p.conn.info().queuedLines == 0;
            });
            for (auto& p : idle) {
                log_.info("puppet idle, disconnecting", {{"user", p->user.str()}});
                p->state = ConnectionState::Stopped;
            }
        }
        released = takeReleasedIdle();
        scheduleTick();
    }
    for (auto& p : idle) retirePuppet(std::move(p), "Idle");
    for (auto& p : released) {
        UserId user = p->user;
        retirePuppet(std::move(p), "Logged out", [this, user] { loginPuppetQuit(user); });
    }
}

// --- IRC -> Matrix ---------------------------------------------------------------------------------

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

void IrcNetwork::reportBotState(const StateChange& change) {
    ctx_.reportState(StateSubject{.network = config_.name, .owner = UserId(), .loginId = {}}, remoteStatusOf(change));
}

void IrcNetwork::reportPuppetState(const UserId& user, const std::optional<RemoteClientHandle>& login,
                                   const StateChange& change) {
    if (login) login->report(remoteStatusOf(change));  // ignored once the framework retired it
    else ctx_.reportState(StateSubject{.network = config_.name, .owner = user, .loginId = {}}, remoteStatusOf(change));
}

void IrcNetwork::onBotState(const StateChange& change) {
    botState_ = change.state;
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
        for (auto& [folded, ch] : channels_) ch.forgetNames();
    }
}

void IrcNetwork::bridgeChannelText(const std::string& nick, const std::string& channel, const IrcMessage& msg,
                                   MessageKind kind, const std::string& text) {
    auto it = channels_.find(foldName(channel));
    if (it == channels_.end()) return;
    ChannelState& ch = it->second;
    if (ch.lazy && !ch.ghostsJoined.count(foldName(nick))) ghostJoined(ch, nick);
    FormattedText f = ircToHtml(text);
    std::map<std::string, std::string> mentionable;
    for (const auto& [folded, m] : ch.members) {
        if (isBotNick(m.nick) || folded == foldName(nick)) continue;
        const UserId* puppet = puppets_.userForNick(folded);
        mentionable[m.nick] = puppet ? puppet->str() : ctx_.ghostUserId(ghostIdFor(config_.name, m.nick, isDefault_)).str();
    }
    std::string html = f.html.empty() ? escapeHtml(f.plain) : f.html;
    std::string linked = linkMentions(html, mentionable);
    RemoteMessage m;
    m.portal = channelPortal(ch.name);
    m.portal.topic = ircStripFormatting(ch.topic);
    m.sender = ids_.ghost(nick);
    m.id = ids_.received(nick, msg);
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
    m.sender = ids_.ghost(nick);
    m.id = ids_.received(nick, msg);
    m.kind = kind;
    m.body = f.plain;
    if (!f.html.empty()) m.html = f.html;
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::ghostJoined(ChannelState& channel, const std::string& nick) {
    channel.ghostsJoined.insert(foldName(nick));
    RemoteMembership m;
    m.room = channelRoomId(config_.name, channel.name);
    m.user = ids_.ghost(nick);
    m.change = RemoteMembership::Change::Join;
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::ghostLeft(const std::string& channel, const std::string& nick, RemoteMembership::Change change,
                           const std::string& reason, const std::optional<std::string>& actor) {
    auto it = channels_.find(foldName(channel));
    if (it != channels_.end()) it->second.ghostsJoined.erase(foldName(nick));
    RemoteMembership m;
    m.room = channelRoomId(config_.name, channel);
    m.user = ids_.ghost(nick);
    m.change = change;
    m.reason = reason;
    if (actor && !isBotNick(*actor) && !isPuppetNick(foldName(*actor))) m.actor = ids_.ghost(*actor);
    ctx_.queueRemote(std::move(m));
}

void IrcNetwork::sendPowerLevels(ChannelState& channel, const std::vector<std::string>& folded) {
    RemotePowerLevels pl;
    pl.room = channelRoomId(config_.name, channel.name);
    for (const std::string& f : folded) {
        auto it = channel.members.find(f);
        if (it == channel.members.end() || isPuppetNick(f) || isBotNick(it->second.nick)) continue;
        pl.levels.emplace_back(ids_.ghost(it->second.nick), powerForModes(it->second.modes, config_.modesToPower));
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

Puppet& IrcNetwork::puppetFor(const UserId& user, const std::string& displayName, const PuppetSetup* setup) {
    if (Puppet* p = puppets_.find(user)) {
        p->connect();
        return *p;
    }
    Puppet& p = puppets_.create(user, displayName, setup ? *setup : puppetSetup(user));
    carried_.erase(user);  // made for a message: it joins what that needs
    if (auto client = loginClients_.find(user); client != loginClients_.end()) {
        p.login = client->second.handle;
        p.loginClient = client->second.id;
    }
    log_.info("puppet connecting", {{"user", user.str()}, {"nick", p.nick}});
    return p;
}

PuppetSetup IrcNetwork::puppetSetup(const UserId& user) {
    PuppetSetup setup{.login = ctx_.users().login(user, config_.name), .bindAddress = std::nullopt};
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
        if (auto addr = addressInPrefix(config_.ipv6Prefix, index + 1, &why)) setup.bindAddress = *addr;
        else log_.warn("no source address for puppet", {{"user", user.str()}, {"why", why}});
    }
    return setup;
}

IrcConnection IrcNetwork::makePuppetConnection(const UserId& user, uint64_t gen, IrcConnectionOptions options) {
    IrcConnectionHandlers h;
    h.onMessage = [this, user, gen](const IrcMessage& m) {
        std::lock_guard l(mutex_);
        if (isLive(user, gen)) onPuppetMessage(user, m);
    };
    h.onStateChange = [this, user, gen](const StateChange& c) {
        std::optional<RemoteClientHandle> login;
        {
            std::lock_guard l(mutex_);
            if (!isLive(user, gen)) return;  // retired: its Stopped was reported then
            onPuppetState(user, c);
            if (const Puppet* p = puppets_.find(user)) login = p->login;
        }
        reportPuppetState(user, login, c);
    };
    h.onSendFailure = [this, user](const SendFailure& f) {
        std::string trouble = "disconnected";
        {
            std::lock_guard l(mutex_);
            if (stopped_) return;  // a clean stop: the line stays owed for the next start
            if (const Puppet* p = puppets_.find(user)) trouble = p->stateReason;
        }
        if (f.receipt == 0) log_.warn("puppet line not sent", {{"user", user.str()}, {"command", f.message.command}});
        else onLineFailed(f, trouble);
    };
    h.onSent = [this](std::uint64_t receipt) { ledger_.settled(receipt); };
    h.onJoinFailure = [this, user, gen](const JoinFailure& f) {
        std::lock_guard l(mutex_);
        if (!isLive(user, gen)) return;
        if (Puppet* p = puppets_.find(user)) p->channels.erase(foldName(f.channel));
        noticeInPortal(channelRoomId(config_.name, f.channel),
                       user.str() + " cannot join " + f.channel + " on IRC: " + f.text + " (" + f.numeric +
                           "); their messages there are not delivered" +
                           (config_.syncMembers ? ", and IRC users cannot see that they read along." : "."));
    };
    return pool_->create(options, std::move(h));
}

void IrcNetwork::retirePuppet(std::unique_ptr<Puppet> puppet, const std::string& reason, std::function<void()> then) {
    std::shared_ptr<Puppet> p(std::move(puppet));
    p->conn.stop(reason);
    reportPuppetState(p->user, p->login, StateChange{.state = ConnectionState::Stopped, .reason = reason});
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
    Puppet* found = puppets_.find(user);
    if (!found) return;
    Puppet& p = *found;
    p.state = change.state;
    p.stateChanged(change);
    if (change.state == ConnectionState::Banned || change.state == ConnectionState::BadCredentials) {
        std::string what = change.state == ConnectionState::Banned ? "is banned from" : "was refused by";
        for (const auto& [folded, key] : p.channels)
            noticeInPortal(channelRoomId(config_.name, folded),
                           user.str() + "'s IRC connection " + what + " " + config_.name + ": " + change.reason +
                               ". Their messages are not delivered until they log in again (!login " + config_.name + ").");
    }
}

void IrcNetwork::onLineFailed(const SendFailure& failure, const std::string& connectionTrouble) {
    if (auto origin = ledger_.failed(failure.receipt))
        ctx_.reportDeliveryFailure(origin->room, origin->event, notSent(failure, connectionTrouble));
}

std::optional<HookResult> IrcNetwork::deadPuppetResult(const Puppet& p) const {
    return p.unusable(config_.name, std::chrono::seconds(config_.deadAfterSeconds));
}

// --- Matrix -> IRC ---------------------------------------------------------------------------------

std::optional<std::string> IrcNetwork::nickForUser(const std::string& userId) {
    std::lock_guard lock(mutex_);
    if (const Puppet* p = puppets_.find(UserId(userId))) return p->nick;
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

OutboundRenderer::NickLookup IrcNetwork::nickLookup() {
    return {.forUser = [this](const std::string& u) -> std::optional<std::string> {
                if (const Puppet* p = puppets_.find(UserId(u))) return p->nick;
                if (auto r = ctx_.users().remoteForGhost(UserId(u))) {
                    auto slash = r->str().find('/');
                    if (slash != std::string::npos) return r->str().substr(slash + 1);
                }
                return std::nullopt;
            },
            .current = [this](const std::string& folded) { return currentNick(folded); }};
}

void IrcNetwork::sendDurably(OutboundLedger::Line line, AfterUnlock& later) {
    ledger_.stage(line);
    sendOwed(line, later);
}

IrcConnection* IrcNetwork::connectionFor(const std::string& connection, const std::string& senderName,
                                         const RemoteTarget& target, bool create, const SetupsReadAhead* setups) {
    if (connection.empty()) return &bot_;
    Puppet* puppet = nullptr;
    if (create) {
        const PuppetSetup* setup = nullptr;
        if (setups)
            if (auto it = setups->find(UserId(connection)); it != setups->end()) setup = &it->second;
        puppet = &puppetFor(UserId(connection), senderName, setup);
    } else {
        puppet = puppets_.find(UserId(connection));
    }
    if (!puppet) return nullptr;
    if (target.isChannel()) {
        auto ch = channels_.find(foldName(target.channel));
        joinPuppet(*puppet, ch != channels_.end() ? ch->second.name : target.channel);
    }
    return &puppet->conn;
}

void IrcNetwork::sendOwed(const OutboundLedger::Line& line, AfterUnlock& later, const SetupsReadAhead* setups) {
    auto target = parseRemoteRoom(line.target);
    auto message = line.paste ? std::optional<IrcMessage>() : IrcMessage::parse(line.wire);
    if (!target || (!line.paste && !message)) {
        log_.error("IRC line owed cannot be sent; dropped", {{"target", line.target.str()}, {"line", line.wire}});
        ledger_.failed(line.seq);
        later.add([this, room = line.room, event = line.event] {
            ctx_.reportDeliveryFailure(room, event,
                                       Error::permanent("irc_not_sent", "The bridge could not read it back to send it"));
        });
        return;
    }
    if (line.paste) {
        connectionFor(line.connection, line.senderName, *target, true, setups);
        later.add([this, line, target = *target] { sendPaste(line, target); });
        return;
    }
    connectionFor(line.connection, line.senderName, *target, true, setups)->send(std::move(*message), line.seq);
}

void IrcNetwork::sendPaste(const OutboundLedger::Line& line, const RemoteTarget& target) {
    ctx_.bot().uploadMedia(line.paste->body, "text/plain; charset=utf-8", "message.txt",
                           [this, line, target](Result<std::string> r) {
        // Made before the lock, and the failures told after it: nothing of the framework is
        // called under it.
        const std::string link = r.ok() ? mediaLink(*r, &ctx_.media(), bridge_.mediaBaseUrl, "message.txt") : "";
        AfterUnlock later(log_);
        auto tellSender = [this, &later, &line](const std::string& why) {
            later.add([this, room = line.room, event = line.event, why] {
                ctx_.reportDeliveryFailure(room, event, Error::permanent("irc_not_sent", why));
            });
        };
        std::lock_guard l(mutex_);
        if (stopped_) return;  // stays owed for the next start
        IrcConnection* conn = connectionFor(line.connection, line.senderName, target, false);
        if (!conn) {
            ledger_.failed(line.seq);
            tellSender("Your IRC connection went away");
            return;
        }
        const OutboundLedger::Paste& paste = *line.paste;
        if (r.ok()) {
            conn->send(OutboundRenderer::lineTo(target, paste.kind,
                              paste.head + " … (" + std::to_string(paste.wires.size()) + " lines: " +
                                  link + ")"),
                       line.seq);
            return;
        }
        log_.warn("paste upload failed; sending every line", {{"error", r.error().message}});
        std::vector<PasteFallbackLine> lines = pasteFallbackLines(line);
        if (lines.empty()) {  // settled as failed, not owed again at every restart
            ledger_.failed(line.seq);
            tellSender("The message has no line IRC can carry");
            return;
        }
        for (PasteFallbackLine& l : lines) conn->send(std::move(l.message), l.receipt);
    });
}

HookResult IrcNetwork::sendMessage(const MatrixMessage& message, const RemoteTarget& target) {
    const bool relay = relayFor(message.room, target);
    if (!relay) claimLogin(message.sender);
    AfterUnlock later(log_);
    std::lock_guard lock(mutex_);
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
    std::vector<std::string> lines = renderer_.lines(message, target, prefix, emote, nickLookup());
    MessageKind kind = message.kind == MessageKind::Notice ? MessageKind::Notice
                       : emote && !relay                   ? MessageKind::Emote
                                                           : MessageKind::Text;
    std::string nick = relay ? botNick_ : puppet->nick;
    RemoteMessageId id = ids_.sent(nick, message.event.eventId());
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
        for (const auto& line : lines) paste.paste->wires.push_back(OutboundRenderer::lineTo(target, kind, prefix + line).serialize());
        sendDurably(std::move(paste), later);
    } else {
        for (const auto& line : lines) {
            OutboundLedger::Line one = base;
            one.wire = OutboundRenderer::lineTo(target, kind, prefix + line).serialize();
            sendDurably(std::move(one), later);
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
    std::string text = renderer_.editText(edit);
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
        Puppet* p = puppets_.find(e.sender);
        if (!p) {
            ctx_.reportDeliveryFailure(e.room, e.event, Error::permanent("irc_not_sent", "Your IRC connection went away"));
            return;
        }
        conn = &p->conn;
    }
    auto line = renderer_.editLine(e.text, e.target, prefix);
    if (!line) return;
    // Sent after its hook returned, so not in the ledger: a crash within the debounce loses
    // it. Its sender still hears when the connection gives it up.
    std::uint64_t receipt = ledger_.track({config_.relay ? std::string() : e.sender.str(), e.room, e.event});
    conn->send(OutboundRenderer::lineTo(e.target, MessageKind::Text, *line), receipt);
}

HookResult IrcNetwork::memberChanged(const MatrixMembership& change, const RemoteTarget& target) {
    if (change.isGhost || change.isBot || !target.isChannel()) return HookResult::ignored();
    const bool joinsOnIrc = change.membership == "join" && config_.syncMembers && !relayFor(change.room, target);
    if (joinsOnIrc) claimLogin(change.target);
    std::lock_guard lock(mutex_);
    std::string folded = foldName(target.channel);
    if (change.membership == "join") {
        ensureChannelLocked(target.channel);
        if (!joinsOnIrc) return HookResult::delivered();
        joinPuppet(puppetFor(change.target, change.displayName), target.channel);
        return HookResult::delivered();
    }
    if (change.membership == "leave" || change.membership == "ban") {
        Puppet* p = puppets_.find(change.target);
        if (!p || !p->channels.erase(folded)) return HookResult::ignored();
        p->conn.part(target.channel, change.membership == "ban" ? "Banned on Matrix" : "Left the Matrix room");
        return HookResult::delivered();
    }
    return HookResult::ignored();
}

HookResult IrcNetwork::sendReaction(const MatrixReaction& reaction, const RemoteTarget& target) {
    if (!config_.reactionsAsActions) return HookResult::ignored();
    const bool relay = relayFor(reaction.room, target);
    if (!relay) claimLogin(reaction.sender);
    AfterUnlock later(log_);
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
    if (relay) {
        line.wire = OutboundRenderer::lineTo(target, MessageKind::Text, relayPrefix(localpartOf(reaction.sender.str()), true) + text).serialize();
        sendDurably(std::move(line), later);
        return HookResult::delivered();
    }
    Puppet& puppet = puppetFor(reaction.sender, "");
    if (auto dead = deadPuppetResult(puppet)) return *dead;
    puppet.lastActive = Clock::now();
    if (target.isChannel()) joinPuppet(puppet, target.channel);
    line.connection = reaction.sender.str();
    line.wire = OutboundRenderer::lineTo(target, MessageKind::Emote, text).serialize();
    sendDurably(std::move(line), later);
    return HookResult::delivered();
}

std::string IrcNetwork::currentNick(const std::string& folded) const {
    if (const UserId* user = puppets_.userForNick(folded))
        if (const Puppet* p = puppets_.find(*user)) return p->nick;
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
    auto ch = channels_.find(foldName(channel));
    puppet.joinOnce(channel, ch != channels_.end() ? ch->second.key : std::string());
}

HookResult IrcNetwork::setTopic(const MatrixStateChange& change, const RemoteTarget& target, const std::string& topic) {
    const bool viaBot = relayFor(change.room, target);
    if (!viaBot) claimLogin(change.sender);
    std::lock_guard lock(mutex_);
    const std::string folded = foldName(target.channel);
    const std::string text = condenseLines(topic);
    ensureChannelLocked(target.channel);
    IrcConnection* conn = &bot_;
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
    ChannelState& ch = channels_[folded];
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
    // Not a plain NICK line: the connection registers with it after every reconnect too.
    if (Puppet* p = puppets_.find(user)) p->conn.changeNick(nick);
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
    claimLogin(user);
    std::unique_ptr<Puppet> old;
    std::map<std::string, std::string> channels;
    std::string name;
    {
        std::lock_guard lock(mutex_);
        old = puppets_.take(user);
        if (old) {
            channels = old->channels;
            name = old->displayName;
            old->state = ConnectionState::Stopped;
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
        old = puppets_.take(user);
        if (!old) {
            reply("You have no connection to " + config_.name + ".");
            return;
        }
        old->state = ConnectionState::Stopped;
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
