// The libpurple bridge as the framework sees it: logins per protocol (the fields each
// plugin declares), one account per login carried by the supervised host, and IMs between a
// login's buddies and DM rooms with their ghosts. libpurple itself never enters this
// process: everything goes over the wire to mxbridge-purple-host.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "host_pool.h"
#include "im_mapping.h"
#include "purple_chats.h"
#include "login_fields.h"
#include "mxbridge/connector.h"
#include "mxbridge/fan_out.h"
#include "mxbridge/ghost_ids.h"
#include "purple_config.h"

namespace mxbridge::purple {

namespace {

constexpr std::chrono::seconds kRequestTimeout{10};
// An IM that was in flight when its host died is taken as having killed it. After this many,
// the account gets a host of its own; after kDisableAfter, it is disabled until its owner
// logs in again or sends !reconnect.
constexpr int kIsolateAfter = 2;
constexpr int kDisableAfter = 4;
constexpr std::chrono::seconds kFirstHostTimeout{20};

// The sealed part of a stored login: the password and the masked options.
std::string sealedSecret(const std::string& password, const wire::Record& secretSettings) {
    return nlohmann::json{{"password", password}, {"options", settingsToJson(secretSettings)}}.dump();
}

RemoteStatus status(RemoteState state, std::string reason, std::string code = {}) {
    return RemoteStatus{.state = state, .reason = std::move(reason), .code = std::move(code)};
}

// What a connection error libpurple calls fatal asks of the account's owner.
RemoteState stateForFatal(const std::string& reason) {
    if (reason == "authentication_failed" || reason == "invalid_username" || reason == "authentication_impossible")
        return RemoteState::BadCredentials;
    return RemoteState::LoggedOut;  // name_in_use, certificate doubts, invalid settings...
}

class PurpleLogin final : public LoginProcess {
public:
    explicit PurpleLogin(std::optional<wire::ProtocolInfo> protocol) : protocol_(std::move(protocol)) {}

    Result<LoginStep> start() override {
        if (!protocol_) return Error::permanent("unknown_protocol", "This machine's libpurple has no such protocol; see !protocols.");
        LoginStep step;
        step.instructions = "Log in to " + protocol_->name + " (" + protocol_->id + ") through libpurple.";
        step.fields = loginFieldsFor(*protocol_);
        return step;
    }

    Result<LoginStep> submit(const LoginInput& input) override {
        AccountSpec spec;
        try {
            spec = accountFromAnswers(*protocol_, input);
        } catch (const LoginAnswerError& e) {
            return Error::permanent("bad_answer", e.what());
        }
        const Secret<std::string>* password = input.secret("password");
        Login login;
        login.remoteName = spec.username;
        login.secret = Secret<std::string>(sealedSecret(password ? password->reveal() : "", spec.secretSettings));
        login.data = {{"protocol", protocol_->id}, {"settings", settingsToJson(spec.settings)}};
        LoginStep done;
        done.kind = LoginStep::Kind::Complete;
        done.login = std::move(login);
        return done;
    }

private:
    std::optional<wire::ProtocolInfo> protocol_;
};

}  // namespace

class PurpleConnector final : public Connector, public LoginHandler, public TypingHandler, public ConfigValidator {
public:
    // The hosts' threads call into this object: they end before its members do.
    ~PurpleConnector() override {
        if (hosts_) hosts_->stop();
    }

    BridgeInfo info() const override {
        return BridgeInfo{"purple", "every protocol libpurple speaks, through mxbridge-purple-host", "purple_{id}",
                          "purple_{id}", {"purple"}, "libpurple"};
    }

    void validateConfig(const ConfigSection& section) const override {
        parsePurpleConfig(section, hostProgramBesideExecutable());
    }

    void start(BridgeContext& context) override {
        ctx_ = &context;
        log_.emplace(context.logger("purple"));
        config_ = parsePurpleConfig(context.config(), hostProgramBesideExecutable());
        hosts_ = std::make_unique<HostPool>(
            config_, [&context] { return context.logger("purple.host"); },
            HostPool::Callbacks{.onEvent = [this](std::size_t, const wire::Message& event) { onHostEvent(event); },
                                .onHostUp = [this](std::size_t host) { onHostUp(host); },
                                .onHostDown = [this](std::size_t host, const std::string& why) { onHostDown(host, why); }});
        // Before the hosts start: their threads hand chat events to it.
        chats_ = std::make_unique<PurpleChats>(context, *hosts_, context.logger("purple.chats"),
                                               [this](const std::string& handle) { return chatAccount(handle); });
        if (!hosts_->start(kFirstHostTimeout))
            log_->error("no purple host answered at start; logins wait for one",
                        {{"host_program", config_.hostProgram}});
        chats_->addCommands(context.commands());
        context.commands().add(Command{.name = "protocols",
                                       .syntax = "",
                                       .help = "list the protocols this bridge's libpurple offers for !login",
                                       .permission = Permission::User,
                                       .minArgs = 0,
                                       .run = [this](CommandCall& call) { call.reply(protocolsText()); },
                                       .roomArg = Command::kNoRoomArg});
    }

    void stop() override {
        if (hosts_) hosts_->stop();
    }

    // ----- logins -----

    std::vector<std::string> loginNetworks() const override {
        std::vector<std::string> networks;
        if (auto list = hosts_ ? hosts_->protocols() : std::nullopt)
            for (const auto& protocol : list->protocols) networks.push_back(networkOf(protocol.id));
        return networks;
    }

    std::vector<LoginFlow> loginFlows(const std::string& network) const override {
        auto protocol = protocolFor(network);
        std::string name = protocol ? protocol->name : network;
        return {LoginFlow{"fields", name + " account", "the fields the " + name + " plugin asks for"}};
    }

    std::unique_ptr<LoginProcess> createLogin(const UserId&, const std::string& network, const std::string&) override {
        return std::make_unique<PurpleLogin>(protocolFor(network));
    }

    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override;

    // ----- Matrix to the network -----

    HookResult onMatrixMessage(const MatrixMessage& message) override {
        return forEachRemote(message.remotes, [&](const RemoteRoomId& remote) {
            if (auto chat = parseChatRoomId(remote.str())) return chats_->send(message, *chat);
            return sendIm(message, remote);
        });
    }

    // A ghost of a protocol this bridge offers exists for any buddy name, so a Matrix user can
    // invite one to start a chat.
    UserQueryAnswer onUserQuery(const UserId& user) override {
        if (auto buddy = buddyOfGhost(user)) return UserQueryAnswer::ghost(buddy->second);
        return UserQueryAnswer::notFound();
    }

    // A Matrix user inviting a buddy's ghost to a room of theirs starts a direct chat there,
    // through their login on that protocol: the room becomes the chat with that buddy (a
    // chat they had before is replaced by it), and the ghost joins.
    HookResult onMatrixMembership(const MatrixMembership& change) override {
        // The owner leaving a chat's room leaves the chat.
        if (change.membership == "leave" && change.target == change.sender) {
            return forEachRemote(change.remotes, [&](const RemoteRoomId& remote) {
                auto chat = parseChatRoomId(remote.str());
                if (!chat || chat->owner != change.sender.str()) return HookResult::ignored();
                return chats_->onOwnerLeft(change, *chat);
            });
        }
        if (change.membership != "invite" || !change.isGhost || !change.remotes.empty()) return HookResult::ignored();
        auto buddy = buddyOfGhost(change.target);
        if (!buddy) return HookResult::ignored();
        const auto& [network, name] = *buddy;
        std::string owner = change.sender.str();
        bool loggedIn;
        {
            std::lock_guard lock(mutex_);
            loggedIn = accounts_.count(accountHandleOf(owner, network)) > 0;
        }
        if (!loggedIn) {
            ctx_->intent(change.target).leave(change.room, "log in first: !login " + network);
            return HookResult::delivered();
        }
        RemoteRoomId remote(imRoomId(network, owner, name));
        for (const Link& old : ctx_->links().forRemote(remote)) ctx_->links().unlink(old.room, remote);
        ctx_->links().link(Link{.room = change.room, .remote = remote, .options = nlohmann::json::object()});
        ctx_->intent(change.target).join(change.room);
        log_->info("direct chat started from Matrix", {{"owner", owner}, {"network", network}, {"buddy", name}});
        return HookResult::delivered();
    }

    // The owner typing in a direct chat: libpurple tells the buddy, on changes only.
    HookResult onMatrixTyping(const MatrixTyping& typing) override {
        return forEachRemote(typing.remotes, [&](const RemoteRoomId& remote) {
            auto room = parseImRoomId(remote.str());
            if (!room) return HookResult::ignored();
            bool now = std::find(typing.typing.begin(), typing.typing.end(), UserId(room->owner)) != typing.typing.end();
            std::string handle = accountHandleOf(room->owner, room->network);
            {
                std::lock_guard lock(mutex_);
                auto it = accounts_.find(handle);
                if (it == accounts_.end() || !it->second.connected) return HookResult::ignored();
                bool& was = ownerTyping_[remote.str()];
                if (was == now) return HookResult::ignored();
                was = now;
            }
            // Best effort: typing that does not arrive is not worth telling anyone.
            hosts_->request(handle, std::string(wire::SendTyping::kType),
                            wire::SendTyping{.account = handle, .who = room->buddy, .typing = now}.toRecord(),
                            kRequestTimeout, [](HostReply) {});
            return HookResult::delivered();
        });
    }

    // The client of one login (called from PurpleClient).
    void connectAccount(const std::string& handle);
    void disconnectAccount(const std::string& handle);

private:
    struct Account {
        RemoteClientHandle client;
        std::string owner;
        std::string network;
        wire::Login login;  // what the host's `login` gets, password included
        bool wanted = false;
        bool connected = false;
        int crashes = 0;  // hosts that died with an IM of this account in flight
        Backoff retry{BackoffOptions{}};
        std::uint64_t attempt = 0;  // a retry scheduled for an older attempt does nothing
    };

    // The network and buddy a ghost's user id names, if it is one of this bridge's ghosts
    // for a protocol the host offers.
    std::optional<std::pair<std::string, std::string>> buddyOfGhost(const UserId& user) const {
        // The user template around {id}: the ghost of the empty id is "@<prefix>=<suffix>:server".
        const std::string empty = ctx_->ghostUserId("").str();
        std::size_t mark = empty.find('=');
        std::size_t colon = user.str().find(':');
        if (mark == std::string::npos || colon == std::string::npos) return std::nullopt;
        std::string prefix = empty.substr(0, mark);
        std::string suffix = empty.substr(mark + 1, empty.find(':') - mark - 1);
        std::string local = user.str().substr(0, colon);
        if (local.size() <= prefix.size() + suffix.size() || local.rfind(prefix, 0) != 0 ||
            local.compare(local.size() - suffix.size(), suffix.size(), suffix) != 0)
            return std::nullopt;
        auto ghostId = ghostIdFromEscaped(local.substr(prefix.size(), local.size() - prefix.size() - suffix.size()));
        if (!ghostId || ctx_->ghostUserId(*ghostId) != user) return std::nullopt;
        std::size_t dot = ghostId->find('.');
        if (dot == std::string::npos || dot + 1 >= ghostId->size()) return std::nullopt;
        std::string network = ghostId->substr(0, dot);
        if (!protocolFor(network)) return std::nullopt;
        return std::make_pair(network, ghostId->substr(dot + 1));
    }

    std::optional<wire::ProtocolInfo> protocolFor(const std::string& network) const {
        if (auto list = hosts_ ? hosts_->protocols() : std::nullopt)
            for (const auto& protocol : list->protocols)
                if (networkOf(protocol.id) == network) return protocol;
        return std::nullopt;
    }

    std::string protocolsText() const {
        auto list = hosts_ ? hosts_->protocols() : std::nullopt;
        if (!list) return "No purple host has answered yet, so the protocols are not known.";
        std::string text = "Protocols (log in with !login <name>):";
        for (const auto& protocol : list->protocols)
            text += "\n- " + networkOf(protocol.id) + ": " + protocol.name + " (" + protocol.id + ")";
        return text;
    }

    // A Matrix message in a direct chat, to the buddy through the owner's account.
    HookResult sendIm(const MatrixMessage& message, const RemoteRoomId& remote);
    void sendLogin(const std::string& handle);
    void scheduleRetry(const std::string& handle, const std::string& why);
    // A host died (or hung) with an IM of `handle` in flight.
    void onHostDiedSending(const std::string& handle);
    void onHostUp(std::size_t host);
    void onHostDown(std::size_t host, const std::string& why);
    void onHostEvent(const wire::Message& event);
    void onImReceived(const wire::ImReceived& im);
    void onWriteFailed(const wire::WriteFailed& failure);
    // The owner and network of `handle`'s account, and its client handle; nullopt if unknown.
    std::optional<Account> snapshot(const std::string& handle) const;
    std::optional<PurpleChats::AccountView> chatAccount(const std::string& handle) const {
        auto account = snapshot(handle);
        if (!account) return std::nullopt;
        auto protocol = protocolFor(account->network);
        return PurpleChats::AccountView{.owner = account->owner,
                                        .network = account->network,
                                        .protocolName = protocol ? protocol->name : account->network,
                                        .connected = account->connected};
    }

    BridgeContext* ctx_ = nullptr;
    std::optional<Logger> log_;
    PurpleBridgeConfig config_;
    std::unique_ptr<HostPool> hosts_;
    std::unique_ptr<PurpleChats> chats_;
    mutable std::mutex mutex_;
    std::map<std::string, Account> accounts_;  // by host handle
    std::map<std::string, bool> ownerTyping_;  // by IM room: what the buddy was last told
    std::atomic<std::uint64_t> messages_{0};
};

namespace {

class PurpleClient final : public RemoteClient {
public:
    PurpleClient(PurpleConnector& connector, std::string handle) : connector_(connector), handle_(std::move(handle)) {}
    void connect() override { connector_.connectAccount(handle_); }
    void disconnect() override { connector_.disconnectAccount(handle_); }
    // Its buddies may write at any time: an idle account still receives.
    bool reapable() const override { return false; }

private:
    PurpleConnector& connector_;
    std::string handle_;
};

}  // namespace

std::unique_ptr<RemoteClient> PurpleConnector::makeClient(const Login& login, RemoteClientHandle handle) {
    if (login.remoteName.empty() || !login.data.is_object()) return nullptr;
    std::string protocol = login.data.value("protocol", "");
    if (protocol.empty()) return nullptr;
    wire::Record settings = settingsFromJson(login.data.value("settings", nlohmann::json::object()));
    std::string password;
    nlohmann::json sealed = nlohmann::json::parse(login.secret.reveal(), nullptr, false);
    if (sealed.is_object()) {
        password = sealed.value("password", "");
        wire::Record sealedSettings = settingsFromJson(sealed.value("options", nlohmann::json::object()));
        for (const auto& field : sealedSettings.fields()) settings.set(field.key, field.value);
    }
    std::string owner = handle.key().owner.str();
    std::string network = handle.key().network;
    std::string accountHandle = accountHandleOf(owner, network);
    {
        std::lock_guard lock(mutex_);
        Account& account = accounts_[accountHandle];
        account = Account{};
        account.client = handle;
        account.owner = owner;
        account.network = network;
        account.login = wire::Login{.account = accountHandle, .protocol = protocol, .username = login.remoteName,
                                    .password = password, .settings = settings};
    }
    return std::make_unique<PurpleClient>(*this, accountHandle);
}

HookResult PurpleConnector::sendIm(const MatrixMessage& message, const RemoteRoomId& remote) {
    auto room = parseImRoomId(remote.str());
    // Only the login's owner speaks through their account.
    if (!room || room->owner != message.sender.str()) return HookResult::ignored();
    std::string handle = accountHandleOf(room->owner, room->network);
    bool connected = false;
    {
        std::lock_guard lock(mutex_);
        auto it = accounts_.find(handle);
        connected = it != accounts_.end() && it->second.connected;
    }
    if (!connected)
        return HookResult::failed(
            Error::transient("not_connected", "your " + room->network + " account is not connected (see !status)"));
    bool emote = message.kind == MessageKind::Emote;
    std::string markup = purpleMarkupOf(emote ? "/me " + message.body : message.body,
                                        emote ? std::nullopt : message.html);
    RoomId matrixRoom = message.room;
    EventId event = message.event.eventId();
    hosts_->request(handle, std::string(wire::SendIm::kType),
                         wire::SendIm{.account = handle, .who = room->buddy, .html = markup}.toRecord(), kRequestTimeout,
                         [this, matrixRoom, event, handle](HostReply reply) {
                             if (reply.ok) return;
                             if (reply.code == "host_gone" || reply.code == "timeout") onHostDiedSending(handle);
                             ctx_->reportDeliveryFailure(
                                 matrixRoom, event, Error::permanent(reply.code, "libpurple did not take it: " + reply.text));
                         });
    return HookResult::delivered(RemoteMessageId("m/" + event.str()));
}

std::optional<PurpleConnector::Account> PurpleConnector::snapshot(const std::string& handle) const {
    std::lock_guard lock(mutex_);
    auto it = accounts_.find(handle);
    if (it == accounts_.end()) return std::nullopt;
    return it->second;
}

void PurpleConnector::connectAccount(const std::string& handle) {
    {
        std::lock_guard lock(mutex_);
        auto it = accounts_.find(handle);
        if (it == accounts_.end()) return;
        it->second.wanted = true;
    }
    sendLogin(handle);
}

void PurpleConnector::disconnectAccount(const std::string& handle) {
    {
        std::lock_guard lock(mutex_);
        auto it = accounts_.find(handle);
        if (it == accounts_.end()) return;
        accounts_.erase(it);
    }
    hosts_->request(handle, std::string(wire::Logout::kType), wire::Logout{.account = handle}.toRecord(), kRequestTimeout,
                    [](HostReply) {});
    hosts_->release(handle);
}

void PurpleConnector::sendLogin(const std::string& handle) {
    auto account = snapshot(handle);
    if (!account || !account->wanted) return;
    account->client.report(status(RemoteState::Connecting, "logging in to " + account->network));
    hosts_->request(handle, std::string(wire::Login::kType), account->login.toRecord(), kRequestTimeout,
                         [this, handle](HostReply reply) {
                             if (reply.ok) return;  // the outcome comes as an event
                             auto account = snapshot(handle);
                             if (!account) return;
                             if (reply.code == "host_gone" || reply.code == "timeout") {
                                 // The host's replacement logs every wanted account in again.
                                 account->client.report(status(RemoteState::TransientDisconnect,
                                                               "waiting for its purple host to come up", reply.code));
                                 return;
                             }
                             account->client.report(status(RemoteState::LoggedOut,
                                                           "libpurple refused the account: " + reply.text, reply.code));
                         });
}

void PurpleConnector::scheduleRetry(const std::string& handle, const std::string& why) {
    std::chrono::milliseconds wait;
    std::uint64_t attempt;
    {
        std::lock_guard lock(mutex_);
        auto it = accounts_.find(handle);
        if (it == accounts_.end() || !it->second.wanted) return;
        wait = it->second.retry.next();
        attempt = ++it->second.attempt;
    }
    log_->info("purple account will log in again", {{"account", handle}, {"why", why},
                                                    {"in_ms", std::to_string(wait.count())}});
    hosts_->after(wait, [this, handle, attempt] {
        {
            std::lock_guard lock(mutex_);
            auto it = accounts_.find(handle);
            if (it == accounts_.end() || it->second.attempt != attempt || it->second.connected) return;
        }
        sendLogin(handle);
    });
}

void PurpleConnector::onHostDiedSending(const std::string& handle) {
    int crashes;
    std::optional<RemoteClientHandle> client;
    {
        std::lock_guard lock(mutex_);
        auto it = accounts_.find(handle);
        if (it == accounts_.end() || !it->second.wanted) return;
        crashes = ++it->second.crashes;
        client = it->second.client;
        if (crashes >= kDisableAfter) {
            it->second.wanted = false;
            it->second.connected = false;
        }
    }
    if (crashes >= kDisableAfter) {
        log_->warn("purple account disabled: its IMs keep killing its host",
                   {{"account", handle}, {"crashes", std::to_string(crashes)}});
        hosts_->request(handle, std::string(wire::Logout::kType), wire::Logout{.account = handle}.toRecord(),
                        kRequestTimeout, [](HostReply) {});
        client->report(status(RemoteState::LoggedOut,
                              "disabled: messages from this account crashed its libpurple host " +
                                  std::to_string(crashes) + " times; send !reconnect to try again",
                              "host_crashes"));
    } else if (crashes >= kIsolateAfter && hosts_->hostOf(handle)) {
        // Off the host it shares: logged out there (if that host is back), in on its own.
        std::size_t shared = *hosts_->hostOf(handle);
        auto own = hosts_->isolate(handle);
        if (!own) return;  // alone already
        hosts_->requestOn(shared, std::string(wire::Logout::kType), wire::Logout{.account = handle}.toRecord(),
                          kRequestTimeout, [](HostReply) {});
        log_->warn("purple account moved to a host of its own", {{"account", handle},
                                                                 {"crashes", std::to_string(crashes)},
                                                                 {"host", std::to_string(*own)}});
        sendLogin(handle);
    }
}

void PurpleConnector::onHostUp(std::size_t host) {
    std::vector<std::string> wanted;
    {
        std::lock_guard lock(mutex_);
        for (auto& [handle, account] : accounts_)
            if (account.wanted) wanted.push_back(handle);
    }
    for (const auto& handle : wanted)
        if (hosts_->hostOf(handle) == host) sendLogin(handle);
}

void PurpleConnector::onHostDown(std::size_t host, const std::string& why) {
    std::vector<std::string> placedThere;
    {
        std::lock_guard lock(mutex_);
        for (auto& [handle, account] : accounts_) placedThere.push_back(handle);
    }
    std::erase_if(placedThere, [&](const std::string& handle) { return hosts_->hostOf(handle) != host; });
    std::vector<RemoteClientHandle> clients;
    {
        std::lock_guard lock(mutex_);
        for (const auto& handle : placedThere) {
            auto it = accounts_.find(handle);
            if (it == accounts_.end()) continue;
            it->second.connected = false;
            if (it->second.wanted) clients.push_back(it->second.client);
        }
    }
    for (const auto& client : clients)
        client.report(status(RemoteState::TransientDisconnect, "the purple host stopped (" + why + "); restarting it",
                             "host_lost"));
}

void PurpleConnector::onHostEvent(const wire::Message& event) {
    try {
        if (chats_->onHostEvent(event)) return;
        if (event.type == wire::AccountConnected::kType) {
            auto connected = wire::AccountConnected::fromRecord(event.body);
            std::optional<RemoteClientHandle> client;
            {
                std::lock_guard lock(mutex_);
                auto it = accounts_.find(connected.account);
                if (it == accounts_.end()) return;
                it->second.connected = true;
                it->second.retry.reset();
                client = it->second.client;
            }
            client->report(status(RemoteState::Connected, {}));
            chats_->onAccountConnected(connected.account);
        } else if (event.type == wire::AccountDisconnected::kType) {
            auto down = wire::AccountDisconnected::fromRecord(event.body);
            std::optional<RemoteClientHandle> client;
            {
                std::lock_guard lock(mutex_);
                auto it = accounts_.find(down.account);
                if (it == accounts_.end()) return;
                it->second.connected = false;
                client = it->second.client;
            }
            if (down.retryable) {
                client->report(status(RemoteState::TransientDisconnect, down.text, down.reason));
                scheduleRetry(down.account, down.reason);
            } else {
                client->report(status(stateForFatal(down.reason), down.text, down.reason));
            }
        } else if (event.type == wire::ImReceived::kType) {
            onImReceived(wire::ImReceived::fromRecord(event.body));
        } else if (event.type == wire::WriteFailed::kType) {
            onWriteFailed(wire::WriteFailed::fromRecord(event.body));
        } else if (event.type == wire::ImSent::kType) {
            // libpurple's echo of what we sent: already in Matrix.
            if (auto account = snapshot(wire::ImSent::fromRecord(event.body).account)) account->client.touch();
        } else if (event.type == wire::Typing::kType) {
            auto typing = wire::Typing::fromRecord(event.body);
            auto account = snapshot(typing.account);
            if (!account) return;
            ctx_->queueRemote(RemoteTyping{
                .room = RemoteRoomId(imRoomId(account->network, account->owner, typing.buddy)),
                .sender = RemoteSender{.id = RemoteUserId(remoteUserIdOf(account->network, typing.buddy)),
                                       .ghostId = ghostIdOf(account->network, typing.buddy),
                                       .displayName = std::nullopt,
                                       .avatarMxc = std::nullopt},
                .typing = typing.state == "typing"});
        } else if (event.type == wire::HostLog::kType) {
            auto line = wire::HostLog::fromRecord(event.body);
            log_->debug("purple host log", {{"level", line.level}, {"category", line.category}, {"text", line.text}});
        }
    } catch (const wire::FieldError& e) {
        log_->warn("malformed event from the purple host", {{"type", event.type}, {"error", e.what()}});
    }
}

void PurpleConnector::onImReceived(const wire::ImReceived& im) {
    auto account = snapshot(im.account);
    if (!account) return;
    account->client.touch();
    auto protocol = protocolFor(account->network);
    MatrixText text = matrixLineOf(im.html);
    RemoteMessage message;
    message.portal.id = RemoteRoomId(imRoomId(account->network, account->owner, im.buddy));
    message.portal.name = im.alias.empty() ? im.buddy : im.alias;
    message.portal.topic = (protocol ? protocol->name : account->network) + " chat with " + im.buddy;
    message.portal.directWith = UserId(account->owner);
    message.sender = RemoteSender{.id = RemoteUserId(remoteUserIdOf(account->network, im.buddy)),
                                  .ghostId = ghostIdOf(account->network, im.buddy),
                                  .displayName = im.alias.empty() ? im.buddy : im.alias,
                                  .avatarMxc = std::nullopt};
    message.id = RemoteMessageId("im/" + account->network + "/" + im.buddy + "/" + std::to_string(im.timestamp) + "-" +
                                 std::to_string(++messages_));
    message.kind = text.emote ? MessageKind::Emote : MessageKind::Text;
    message.body = text.body;
    message.html = text.html;
    ctx_->queueRemote(std::move(message));
}

void PurpleConnector::onWriteFailed(const wire::WriteFailed& failure) {
    auto account = snapshot(failure.account);
    if (!account || failure.buddy.empty()) return;
    // The plugin's own words, in the DM, from the buddy's ghost: the sender sees which
    // conversation it was about.
    RemoteMessage notice;
    notice.portal.id = RemoteRoomId(imRoomId(account->network, account->owner, failure.buddy));
    notice.portal.name = failure.buddy;
    notice.portal.directWith = UserId(account->owner);
    notice.sender = RemoteSender{.id = RemoteUserId(remoteUserIdOf(account->network, failure.buddy)),
                                 .ghostId = ghostIdOf(account->network, failure.buddy),
                                 .displayName = std::nullopt,
                                 .avatarMxc = std::nullopt};
    notice.id = RemoteMessageId("err/" + account->network + "/" + failure.buddy + "/" + std::to_string(++messages_));
    notice.kind = MessageKind::Notice;
    notice.body = "Not delivered: " + matrixTextOf(failure.text).body;
    ctx_->queueRemote(std::move(notice));
}

MXBRIDGE_BRIDGE(PurpleConnector, "purple", "every protocol libpurple speaks, through mxbridge-purple-host");

}  // namespace mxbridge::purple
