// One IRC network: the bridge bot's connection, which listens in every linked channel and is
// the only source of channel traffic toward Matrix, and one puppet connection per Matrix
// user who talks (unless the network relays). All of it runs on the connector's io_context;
// hooks call in from the framework's threads under `mutex_`, and every IrcConnection method
// they use only posts to the loop, so nothing here blocks.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mxbridge/connector.h>

#include "channel_state.h"
#include "mapping.h"
#include "mxbridge/irc/connection_pool.h"
#include "mxbridge/irc/isupport.h"
#include "mxbridge/irc/irc_connection.h"
#include "network_config.h"
#include "outbound_ledger.h"
#include "outbound_renderer.h"
#include "puppet.h"
#include "puppet_registry.h"
#include "remote_ids.h"

namespace mxbridge::irc {

class IrcNetwork {
public:
    using Clock = std::chrono::steady_clock;

    IrcNetwork(const NetworkConfig& config, const IrcBridgeConfig& bridge, BridgeContext& ctx,
               boost::asio::io_context& io, IdentServer* ident);
    ~IrcNetwork();

    const NetworkConfig& config() const { return config_; }
    bool isDefault() const { return isDefault_; }

    // Loop thread: connect the bot and join configured and linked channels. Lines owed from
    // before the last stop or crash were queued by the constructor, ahead of any hook's.
    void start();
    // Loop thread: QUIT everything. Lines still queued stay owed in the ledger for the next
    // start; the connections are kept until they are down (connectionsDown()).
    void stop();
    // Any thread: every connection stop() closed is down.
    bool connectionsDown();
    // After the loop has stopped: what the ircd confirmed is written to the ledger.
    void flushLedger() { ledger_.stop(); }

    // --- Called from hooks and commands (any thread); never block ---
    HookResult sendMessage(const MatrixMessage& message, const RemoteTarget& target);
    HookResult sendEdit(const MatrixEdit& edit, const RemoteTarget& target);
    // reactions_as_actions: "* alice[m] reacted 👍 to bob"; otherwise ignored.
    HookResult sendReaction(const MatrixReaction& reaction, const RemoteTarget& target);
    HookResult memberChanged(const MatrixMembership& change, const RemoteTarget& target);
    // The bot joins `channel` (it then bridges it) and remembers its key.
    void ensureChannel(const std::string& channel, const std::string& key = {});
    PortalInfo channelPortal(const std::string& channel) const;
    // A room was just linked to `channel`: the bot asks for NAMES again, so the new room gets
    // the channel's ghosts and their power levels.
    void refreshMembers(const std::string& channel);
    // The nick a Matrix user id stands for on this network (ghost or puppet), if any.
    std::optional<std::string> nickForUser(const std::string& userId);
    // Why `channel` (from provisioning, a command or an alias) cannot be joined as one channel
    // on this server (its CHANTYPES and CHANNELLEN, defaults until the bot has heard them).
    std::optional<std::string> channelProblem(const std::string& channel);

    // A Matrix user asks to link a room to a channel of this network (link_consent.cpp).
    struct LinkAsk {
        Link link;  // the room, the channel's remote id and the link options
        std::string channel;
        UserId requester;
        // Reaches the requester in Matrix once the ops answered or the time ran out.
        std::function<void(const std::string&)> tell;
    };
    // Ok: link now (the requester's puppet is an op there). An error with code kLinkPending:
    // the channel's ops were (or, once the bot has their names, will be) asked privately, and
    // the bridge links the room itself on the first op's yes. Any other error refuses.
    Result<void> requestLink(LinkAsk ask);
    // Matrix -> IRC topic of a channel, through the sender's puppet or the relay bot.
    HookResult setTopic(const MatrixStateChange& change, const RemoteTarget& target, const std::string& topic);

    // Commands.
    void setNick(const UserId& user, const std::string& nick, std::function<void(const std::string&)> reply);
    void whois(const std::string& nick, std::function<void(const std::string&)> reply);
    void reconnectPuppet(const UserId& user, std::function<void(const std::string&)> reply);
    void quitPuppet(const UserId& user, std::function<void(const std::string&)> reply);
    void sendRaw(const std::string& line, std::function<void(const std::string&)> reply);
    std::string status();

    // --- Logins: puppets as the framework's remote clients (irc_login.cpp) ---
    // Any thread, never under mutex_: `user`'s login client on this network is running (made
    // and connect()ed by the framework if it was not), so the puppet a hook then makes
    // reports through it. Counts as activity.
    void claimLogin(const UserId& user);
    // PuppetLoginClient::connect: the framework runs client `clientId` for `user`. Their
    // puppet reports through `handle` from now on; a released puppet (the client before
    // this one was let go: a new login) reconnects with what is stored now; a login of its
    // own (`connectNow`: an account or a password) connects at once, joining the channels of
    // the puppet before it.
    void loginStarted(const UserId& user, std::uint64_t clientId, RemoteClientHandle handle, bool connectNow);
    // PuppetLoginClient::disconnect (logout, a new login, shutdown): the puppet quits, or,
    // with lines still queued, once they are out (at shutdown they stay owed, as ever).
    void loginStopped(const UserId& user, std::uint64_t clientId);
    std::uint64_t newLoginClientId() { return ++loginClientIds_; }

private:
    struct PendingEdit {
        std::string text;
        RemoteTarget target;
        UserId sender;
        RoomId room;
        EventId event;
        std::shared_ptr<boost::asio::steady_timer> timer;
    };
    struct PendingConsent {
        std::string id;
        LinkAsk ask;
        std::string channel;  // folded
        bool asked = false;   // the ops have been sent the question
        std::map<std::string, std::string> askedOps;  // folded nick -> nick
        std::shared_ptr<boost::asio::steady_timer> timer;
    };
    // A Matrix topic change sent to IRC, until the server echoes the TOPIC or refuses it.
    struct PendingTopic {
        std::string channel;  // folded
        RoomId room;
        UserId user;
        bool viaBot = false;  // relay: the bot sent it
    };
    struct PendingWhois {
        std::string text;
        std::function<void(const std::string&)> reply;
        std::shared_ptr<boost::asio::steady_timer> timer;
    };

    // Loop thread, under mutex_. Inbound lines go through a table, command -> handler
    // (bot_handlers.cpp, puppet_handlers.cpp); commands without a handler are ignored.
    using BotHandler = void (IrcNetwork::*)(const IrcMessage& msg, const Source& src);
    using PuppetHandler = void (IrcNetwork::*)(Puppet& puppet, const IrcMessage& msg, const Source& src);
    static const std::unordered_map<std::string_view, BotHandler>& botHandlers();
    static const std::unordered_map<std::string_view, PuppetHandler>& puppetHandlers();
    // What the bot and every puppet answer to a CTCP VERSION.
    static constexpr std::string_view kCtcpVersion = "mxbridge IRC bridge";
    void onBotMessage(const IrcMessage& msg);
    void onBotState(const StateChange& change);
    void onPuppetMessage(const UserId& user, const IrcMessage& msg);
    void onPuppetState(const UserId& user, const StateChange& change);
    // The bot's handlers (bot_handlers.cpp).
    void onBotWelcome(const IrcMessage& msg, const Source& src);
    void onBotISupport(const IrcMessage& msg, const Source& src);
    void onNick(const IrcMessage& msg, const Source& src);
    void onText(const IrcMessage& msg, const Source& src);
    void onJoin(const IrcMessage& msg, const Source& src);
    void onPart(const IrcMessage& msg, const Source& src);
    void onKick(const IrcMessage& msg, const Source& src);
    void onQuit(const IrcMessage& msg, const Source& src);
    void onMode(const IrcMessage& msg, const Source& src);
    void onTopic(const IrcMessage& msg, const Source& src);
    void onBotTopicRefused(const IrcMessage& msg, const Source& src);
    void onNames(const IrcMessage& msg, const Source& src);
    void onEndOfNames(const IrcMessage& msg, const Source& src);
    void onWhoisReply(const IrcMessage& msg, const Source& src);
    // The puppets' handlers (puppet_handlers.cpp).
    void onPuppetWelcome(Puppet& puppet, const IrcMessage& msg, const Source& src);
    void onPuppetNick(Puppet& puppet, const IrcMessage& msg, const Source& src);
    void onPuppetTopicRefused(Puppet& puppet, const IrcMessage& msg, const Source& src);
    void onPuppetText(Puppet& puppet, const IrcMessage& msg, const Source& src);
    // A line with a receipt will not be sent: its sender is told (unless the bridge stops,
    // when it stays owed for the next start).
    void onLineFailed(const SendFailure& failure, const std::string& connectionTrouble);
    void bridgeChannelText(const std::string& nick, const std::string& channel, const IrcMessage& msg,
                           MessageKind kind, const std::string& text);
    void bridgeDirectText(Puppet& puppet, const std::string& nick, const IrcMessage& msg, MessageKind kind,
                          const std::string& text);
    void ghostJoined(ChannelState& channel, const std::string& nick);
    void ghostLeft(const std::string& channel, const std::string& nick, RemoteMembership::Change change,
                   const std::string& reason, const std::optional<std::string>& actor = std::nullopt);
    void sendPowerLevels(ChannelState& channel, const std::vector<std::string>& folded);
    void noticeInPortal(const RemoteRoomId& remote, const std::string& text);
    // Link consent (link_consent.cpp).
    void askOps(PendingConsent& pending);
    void askOpsOnceNamed(const std::string& foldedChannel);
    void onConsentAnswer(const std::string& nick, const std::string& text);
    void consentExpired(const std::string& id);
    bool linkedAlready(const Link& link);
    void tick();
    void ensureChannelLocked(const std::string& channel, const std::string& key = {});
    void refreshMembersLocked(const std::string& channel);
    void scheduleTick();

    // Any thread, under mutex_.
    // The one place puppets are made (through puppets_.create).
    Puppet& puppetFor(const UserId& user, const std::string& displayName, const PuppetSetup* setup = nullptr);
    // What a new puppet of `user` needs from the stores (login, source address).
    PuppetSetup puppetSetup(const UserId& user);
    IrcConnection makePuppetConnection(const UserId& user, uint64_t generation, IrcConnectionOptions options);
    bool isLive(const UserId& user, uint64_t generation) const { return !stopped_ && puppets_.isLive(user, generation); }
    // Loop or hook thread, without mutex_: QUITs the connection of a puppet already taken out
    // of puppets_, then (once the server has seen it go, so its nick is free) runs `then` on
    // the loop and lets it go.
    void retirePuppet(std::unique_ptr<Puppet> puppet, const std::string& reason, std::function<void()> then = {});
    void whenStopped(std::shared_ptr<Puppet> puppet, std::shared_ptr<boost::asio::steady_timer> timer,
                     Clock::time_point deadline, std::function<void()> then);
    bool isPuppetNick(const std::string& folded) const { return puppets_.isPuppetNick(folded); }
    bool isBotNick(const std::string& nick) const;
    std::optional<HookResult> deadPuppetResult(const Puppet& puppet) const;
    // Who pills and replies name on IRC, for the renderer (puppets, then stored ghosts).
    OutboundRenderer::NickLookup nickLookup();
    // Framework calls decided under mutex_ and made once it is released: declared before the
    // lock guard, so it runs them after the guard let go (destruction in reverse order).
    class AfterUnlock {
    public:
        explicit AfterUnlock(Logger& log) : log_(log) {}
        AfterUnlock(const AfterUnlock&) = delete;
        AfterUnlock& operator=(const AfterUnlock&) = delete;
        ~AfterUnlock();
        void add(std::function<void()> call) { calls_.push_back(std::move(call)); }

    private:
        Logger& log_;
        std::vector<std::function<void()>> calls_;
    };
    // What puppets read from the stores, read before taking mutex_ (restoreOwed).
    using SetupsReadAhead = std::map<UserId, PuppetSetup>;

    // In a hook: `line` (or its paste) is stored in the ledger, committed with the event's
    // done mark, and queued on its connection.
    void sendDurably(OutboundLedger::Line line, AfterUnlock& later);
    // Queues a ledger line on its connection (the sender's puppet, joined to the channel
    // first, or the bot); a paste is uploaded first (the upload starts from `later`).
    void sendOwed(const OutboundLedger::Line& line, AfterUnlock& later, const SetupsReadAhead* setups = nullptr);
    // Starts the upload of a paste: not under mutex_ (its callback takes it).
    void sendPaste(const OutboundLedger::Line& line, const RemoteTarget& target);
    // The connection of a ledger line's sender (creating the puppet), or null when it has
    // none (a paste's puppet gone before the upload finished).
    IrcConnection* connectionFor(const std::string& connection, const std::string& senderName,
                                 const RemoteTarget& target, bool create, const SetupsReadAhead* setups = nullptr);
    void makeBot();
    void restoreOwed();
    void sendEditNow(const EventId& target);
    // The link's own `relay` option, else the network's.
    bool relayFor(const RoomId& room, const RemoteTarget& target);
    // A folded nick (as in remote ids) as people on IRC spell it now, when known.
    std::string currentNick(const std::string& folded) const;
    // The puppet joins `channel` (queued ahead of what it sends next) unless it is there.
    void joinPuppet(Puppet& puppet, const std::string& channel);
    // Takes the pending topic change of `user` (or the bot's, with viaBot) in `channel`.
    std::optional<PendingTopic> takeTopic(const std::string& channel, const UserId* user);
    void topicRefused(const IrcMessage& msg, const UserId* user);

    NetworkConfig config_;
    const IrcBridgeConfig& bridge_;
    BridgeContext& ctx_;
    // The framework keeps the states (log, mxbridge_remote_connections, the state endpoint):
    // the bot is the network's own connection, each puppet its Matrix user's. Never called
    // under mutex_.
    void reportBotState(const StateChange& change);
    // Through the puppet's login client when it has one, else as the user's own subject.
    void reportPuppetState(const UserId& user, const std::optional<RemoteClientHandle>& login,
                           const StateChange& change);
    // Under mutex_: a new puppet for `user` that starts where their last one stopped
    // (channels carried over by loginStopped), for a login of their own.
    void startLoginPuppet(const UserId& user, const PuppetSetup& setup);
    // Loop thread, without mutex_: the connection a login client let go has quit; a login
    // waiting for its nick starts its puppet.
    void loginPuppetQuit(const UserId& user);
    // Takes the released puppets whose queue is empty out of the registry (tick).
    std::vector<std::unique_ptr<Puppet>> takeReleasedIdle();
    boost::asio::io_context& io_;
    Logger log_;
    bool isDefault_ = false;
    RemoteIds ids_;
    OutboundRenderer renderer_;
    std::unique_ptr<ConnectionPool> pool_;
    OutboundLedger ledger_;

    std::mutex mutex_;
    IrcConnection bot_;
    ISupport serverRules_;  // the bot's copy of the server's 005, for hooks and commands
    std::string botNick_;
    ConnectionState botState_ = ConnectionState::Stopped;
    std::map<std::string, ChannelState> channels_;  // folded name
    PuppetRegistry puppets_;
    NetsplitTracker netsplits_;
    std::map<EventId, Clock::time_point> sentAt_;  // Matrix messages we sent, for edit windows
    std::deque<EventId> sentOrder_;
    std::map<EventId, PendingEdit> pendingEdits_;
    std::map<std::string, PendingWhois> whois_;  // folded nick
    std::map<std::string, PendingConsent> consents_;  // by request id
    std::vector<PendingTopic> topics_;
    boost::asio::steady_timer tickTimer_;
    bool stopped_ = false;
    // stop() closed these; kept until the loop ends, so their last receipts are heard.
    std::vector<std::unique_ptr<Puppet>> closing_;
    IrcConnection closingBot_;
    // Logins (under mutex_): each user's running login client, the channels of the puppet a
    // login client let go (joined again by the next one) and the users whose old connection
    // is still quitting (a new login's puppet waits for it, so the nick is free).
    struct LoginClient {
        std::uint64_t id = 0;
        RemoteClientHandle handle;
    };
    std::map<UserId, LoginClient> loginClients_;
    std::map<UserId, std::pair<std::string, std::map<std::string, std::string>>> carried_;  // name, channels
    std::set<UserId> quitting_;
    std::set<UserId> startWhenQuit_;
    std::atomic<std::uint64_t> loginClientIds_{0};
};

}  // namespace mxbridge::irc
