// The IRC connector: routes each hook to its network, answers alias and user queries.
#include "irc_connector.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>

#include "irc_login.h"
#include "mxbridge/irc/ident_server.h"

namespace mxbridge::irc {

IrcConnector::IrcConnector() = default;
IrcConnector::~IrcConnector() { stop(); }

BridgeInfo IrcConnector::info() const {
    return BridgeInfo{"irc", "IRC channels as Matrix rooms, with puppets", "irc_{id}", "irc_{id}", {"irc"}, "IRC"};
}

// The same parse start() does, so check-config refuses exactly what run would.
void IrcConnector::validateConfig(const ConfigSection& section) const { parseIrcBridgeConfig(section); }

void IrcConnector::start(BridgeContext& context) {
    ctx_ = &context;
    log_.emplace(context.logger("irc"));
    config_ = parseIrcBridgeConfig(context.config());
    work_.emplace(io_.get_executor());
    for (const NetworkConfig& n : config_.networks) {
        if (!n.identEnabled || ident_) continue;
        IdentServerOptions o;
        o.port = n.identPort;
        ident_ = std::make_unique<IdentServer>(io_, o);
        if (auto ec = ident_->start()) {
            log_->warn("ident server not started; puppets show ~usernames", {{"port", n.identPort}, {"error", ec.message()}});
            ident_.reset();
        }
    }
    for (const NetworkConfig& n : config_.networks)
        networks_[n.name] = std::make_unique<IrcNetwork>(n, config_, context, io_, ident_.get());
    registerCommands();
    loop_ = std::thread([this] {
        for (;;) {
            try {
                io_.run();
                return;
            } catch (const std::exception& e) {
                log_->error("IRC loop handler threw; continuing", {{"error", e.what()}});
            }
        }
    });
    for (auto& [name, net] : networks_) boost::asio::post(io_, [n = net.get()] { n->start(); });
}

void IrcConnector::stop() {
    if (!loop_.joinable()) return;
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    boost::asio::post(io_, [this, done] {
        for (auto& [name, net] : networks_) net->stop();
        if (ident_) ident_->stop();
        done->set_value();
    });
    finished.wait_for(std::chrono::seconds(10));
    work_.reset();
    // QUITs get a moment to leave (IrcConnection::stop gives a server 2 s to read one), so the
    // lines written before them are confirmed rather than sent again at the next start.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    auto allDown = [this] {
        for (auto& [name, net] : networks_)
            if (!net->connectionsDown()) return false;
        return true;
    };
    while (!allDown() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    io_.stop();
    loop_.join();
    // Lines still queued stay owed in each network's ledger; what was confirmed is written.
    for (auto& [name, net] : networks_) net->flushLedger();
    networks_.clear();
    ident_.reset();
}

std::vector<std::string> IrcConnector::loginNetworks() const {
    std::vector<std::string> names{config_.defaultNetwork().name};
    for (const std::string& name : config_.names())
        if (name != names.front()) names.push_back(name);
    return names;
}

std::vector<LoginFlow> IrcConnector::loginFlows(const std::string& network) const {
    for (const NetworkConfig& n : config_.networks)
        if (n.name == network) return ircLoginFlows(n);
    return {};
}

std::unique_ptr<LoginProcess> IrcConnector::createLogin(const UserId&, const std::string& network,
                                                        const std::string& flowId) {
    std::vector<LoginFlow> flows = loginFlows(network);
    if (flows.empty()) return nullptr;
    bool known = std::any_of(flows.begin(), flows.end(), [&](const LoginFlow& f) { return f.id == flowId; });
    return std::make_unique<IrcLoginProcess>(network, known ? flowId : flows.front().id);
}

std::unique_ptr<RemoteClient> IrcConnector::makeClient(const Login& login, RemoteClientHandle handle) {
    IrcNetwork* net = network(login.network);
    if (!net || !login.id.empty()) return nullptr;  // one login per user and network
    // A login of its own (an account, a password) connects at once, as when the user talks.
    const bool connectNow = !login.remoteName.empty() || !login.secret.empty();
    return std::make_unique<PuppetLoginClient>(*net, login.user, std::move(handle), connectNow);
}

IrcNetwork* IrcConnector::network(const std::string& name) {
    auto it = networks_.find(name);
    return it == networks_.end() ? nullptr : it->second.get();
}

HookResult IrcConnector::onMatrixMessage(const MatrixMessage& message) {
    std::optional<HookResult> result;
    for (const RemoteRoomId& remote : message.remotes) {
        auto target = parseRemoteRoom(remote);
        if (!target) continue;
        IrcNetwork* net = network(target->network);
        if (!net) continue;
        HookResult r = net->sendMessage(message, *target);
        if (!result || r.kind() == HookResult::Kind::Failed) result = r;
    }
    return result ? *result : HookResult::ignored();
}

HookResult IrcConnector::onMatrixEdit(const MatrixEdit& edit) {
    std::optional<HookResult> result;
    for (const RemoteRoomId& remote : edit.remotes) {
        auto target = parseRemoteRoom(remote);
        if (!target) continue;
        IrcNetwork* net = network(target->network);
        if (!net) continue;
        HookResult r = net->sendEdit(edit, *target);
        if (!result || r.kind() != HookResult::Kind::Delivered) result = r;
    }
    return result ? *result : HookResult::ignored();
}

HookResult IrcConnector::onMatrixReaction(const MatrixReaction& reaction) {
    std::optional<HookResult> result;
    for (const RemoteRoomId& remote : reaction.remotes) {
        auto target = parseRemoteRoom(remote);
        IrcNetwork* net = target ? network(target->network) : nullptr;
        if (!net) continue;
        HookResult r = net->sendReaction(reaction, *target);
        if (!result || r.kind() == HookResult::Kind::Failed) result = r;
    }
    return result ? *result : HookResult::ignored();
}

HookResult IrcConnector::onMatrixRedaction(const MatrixRedaction& redaction) {
    // IRC cannot take a line back. Deleting Matrix users' own bridged messages deserves a word,
    // since IRC already saw them; deleting ghosts' messages is Matrix-side moderation.
    if (!redaction.targetRemote || !isMatrixSentId(*redaction.targetRemote)) return HookResult::ignored();
    OutgoingMessage notice;
    notice.kind = MessageKind::Notice;
    notice.body = redaction.sender.str() +
                  ": deleted on Matrix only. IRC has no way to take a message back; people on IRC have seen it.";
    ctx_->bot().sendMessage(redaction.room, notice);
    return HookResult::ignored();
}

std::optional<GhostName> IrcConnector::ghostName(const UserId& user) {
    if (!ctx_->isGhost(user)) return std::nullopt;
    if (auto remote = ctx_->users().remoteForGhost(user)) {
        auto slash = remote->str().find('/');
        if (slash != std::string::npos && network(remote->str().substr(0, slash)))
            return GhostName{remote->str().substr(0, slash), remote->str().substr(slash + 1)};
    }
    // Not stored yet: undo the user template with a probe id.
    const std::string probe = "zzprobezz";
    std::string sample = ctx_->ghostUserId(probe).str();
    auto at = sample.find(probe);
    if (at == std::string::npos) return std::nullopt;
    std::string prefix = sample.substr(0, at), suffix = sample.substr(at + probe.size());
    const std::string& s = user.str();
    if (s.size() <= prefix.size() + suffix.size() || s.compare(0, prefix.size(), prefix) != 0 ||
        s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    std::string id = s.substr(prefix.size(), s.size() - prefix.size() - suffix.size());
    auto name = parseGhostId(id, config_.names(), config_.defaultNetwork().name);
    if (!name || !network(name->network)) return std::nullopt;
    // Only ids that round-trip (no escaping involved) are trusted.
    if (ctx_->ghostUserId(ghostIdFor(name->network, name->nick, name->network == config_.defaultNetwork().name)) != user)
        return std::nullopt;
    return name;
}

HookResult IrcConnector::onMatrixMembership(const MatrixMembership& change) {
    // A Matrix user invites a ghost to a room with nobody else: a private chat on IRC.
    if (change.membership == "invite" && change.isGhost && change.remotes.empty()) {
        auto name = ghostName(change.target);
        if (!name) return HookResult::ignored();
        ctx_->links().link(Link{change.room, directRoomId(name->network, name->nick, change.sender)});
        ctx_->intent(change.target).join(change.room);
        return HookResult::delivered();
    }
    std::optional<HookResult> result;
    for (const RemoteRoomId& remote : change.remotes) {
        auto target = parseRemoteRoom(remote);
        if (!target) continue;
        IrcNetwork* net = network(target->network);
        if (!net) continue;
        HookResult r = net->memberChanged(change, *target);
        if (!result || r.kind() == HookResult::Kind::Failed) result = r;
    }
    return result ? *result : HookResult::ignored();
}

HookResult IrcConnector::onMatrixStateChange(const MatrixStateChange& change) {
    // IRC channels have a topic but no name: room names, avatars and the rest stay on Matrix.
    if (change.type != "m.room.topic" || !change.stateKey.empty()) return HookResult::ignored();
    const nlohmann::json& content = change.event.content();
    std::string topic = content.contains("topic") && content["topic"].is_string() ? content["topic"].get<std::string>()
                                                                                  : std::string();
    std::optional<HookResult> result;
    for (const RemoteRoomId& remote : change.remotes) {
        auto target = parseRemoteRoom(remote);
        if (!target || !target->isChannel()) continue;
        IrcNetwork* net = network(target->network);
        if (!net) continue;
        HookResult r = net->setTopic(change, *target, topic);
        if (!result || r.kind() == HookResult::Kind::Failed) result = r;
    }
    return result ? *result : HookResult::ignored();
}

void IrcConnector::startBridging(IrcNetwork& net, const Link& link, const std::string& channel) {
    ctx_->bot().join(link.room);
    std::string key = link.options.contains("key") && link.options["key"].is_string()
                          ? link.options["key"].get<std::string>()
                          : std::string();
    net.ensureChannel(channel, key);
    net.refreshMembers(channel);
}

Result<void> IrcConnector::onLinkRequested(const LinkRequest& request) {
    auto target = parseRemoteRoom(request.link.remote);
    IrcNetwork* net = target ? network(target->network) : nullptr;
    if (!net || !target->isChannel())
        return Error::permanent("M_NOT_FOUND", "\"" + request.link.remote.str() +
                                                   "\" is not an IRC channel of this bridge; use <network>/<#channel>.");
    if (request.unlink) return {};
    if (auto problem = net->channelProblem(target->channel))
        return Error::permanent("M_INVALID_PARAM", "\"" + target->channel + "\" is not an IRC channel name: " + *problem + ".");
    const nlohmann::json& options = request.link.options;
    for (const auto& [key, value] : options.items()) {
        if (key == "relay" && value.is_boolean()) continue;
        if (key == "key" && value.is_string()) continue;
        return Error::permanent("M_INVALID_PARAM", "Link option \"" + key + "\" is not known or has the wrong type "
                                                    "(known: relay: true|false, key: \"channel key\").");
    }
    // The channel as the remote id has it, folded: good enough for IRC, which folds too.
    const std::string channel = target->channel;
    const RoomId room = request.link.room;
    const UserId requester = request.requester;
    if (!request.requesterIsAdmin) {
        // Answers come long after this request returned: the bot says them in the room.
        auto tell = [this, room, requester](const std::string& text) {
            ctx_->bot().join(room);
            OutgoingMessage notice;
            notice.kind = MessageKind::Notice;
            notice.body = requester.str() + ": " + text;
            ctx_->bot().sendMessage(room, notice);
        };
        Result<void> consent = net->requestLink(IrcNetwork::LinkAsk{request.link, channel, requester, tell});
        if (!consent) return consent;
    }
    startBridging(*net, request.link, channel);
    return {};
}

UserQueryAnswer IrcConnector::onUserQuery(const UserId& user) {
    auto name = ghostName(user);
    if (!name) return UserQueryAnswer::notFound();
    return UserQueryAnswer::ghost(name->nick);
}

AliasQueryAnswer IrcConnector::onAliasQuery(const RoomAlias& alias) {
    std::string localpart(localpartOf(alias.str()));
    if (localpart.empty() && !alias.str().empty()) {
        // localpartOf reads user ids; an alias is "#localpart:server".
        auto colon = alias.str().rfind(':');
        localpart = alias.str().substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
    }
    // Channels configured with their own alias id first.
    for (auto& [name, net] : networks_)
        for (const ChannelConfig& c : net->config().channels)
            if (!c.aliasId.empty() && localpart.size() >= c.aliasId.size() &&
                localpart.compare(localpart.size() - c.aliasId.size(), c.aliasId.size(), c.aliasId) == 0) {
                net->ensureChannel(c.name, c.key);
                return AliasQueryAnswer::create(net->channelPortal(c.name));
            }
    auto target = parseAliasLocalpart(localpart, config_.names(), config_.defaultNetwork().name);
    if (!target) return AliasQueryAnswer::notFound();
    IrcNetwork* net = network(target->network);
    if (!net) return AliasQueryAnswer::notFound();
    if (auto problem = net->channelProblem(target->channel)) {
        log_->info("alias names no IRC channel", {{"alias", alias.str()}, {"why", *problem}});
        return AliasQueryAnswer::notFound();
    }
    net->ensureChannel(target->channel);
    log_->info("portal on demand", {{"alias", alias.str()}, {"network", target->network}, {"channel", target->channel}});
    return AliasQueryAnswer::create(net->channelPortal(target->channel));
}

std::optional<nlohmann::json> IrcConnector::onThirdpartyProtocol(const std::string& protocol) {
    if (protocol != "irc") return std::nullopt;
    nlohmann::json instances = nlohmann::json::array();
    for (const NetworkConfig& n : config_.networks)
        instances.push_back({{"network_id", n.name}, {"desc", n.name + " (" + n.address + ")"},
                             {"fields", {{"network", n.name}}}});
    return nlohmann::json{{"user_fields", {"network", "nickname"}},
                          {"location_fields", {"network", "channel"}},
                          {"icon", ""},
                          {"field_types",
                           {{"network", {{"regexp", "[a-z0-9-]+"}, {"placeholder", "libera"}}},
                            {"nickname", {{"regexp", "[^\\s#]+"}, {"placeholder", "alice"}}},
                            {"channel", {{"regexp", "[#&][^\\s,]+"}, {"placeholder", "#matrix"}}}}},
                          {"instances", instances}};
}

MXBRIDGE_BRIDGE(IrcConnector, "irc", "IRC channels as Matrix rooms, with puppets");

}  // namespace mxbridge::irc
