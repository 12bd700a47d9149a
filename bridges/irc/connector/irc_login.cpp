// IRC logins (see irc_login.h), and the network's side of its puppets' login clients.
#include "irc_login.h"

#include "mxbridge/irc/nick.h"
#include "network.h"

namespace mxbridge::irc {

namespace {

constexpr std::size_t kMaxAccountLength = 30;

LoginFlow saslFlow() {
    return LoginFlow{.id = "sasl", .name = "SASL", .description = "identify with SASL PLAIN as the connection opens"};
}
LoginFlow nickservFlow() {
    return LoginFlow{.id = "nickserv", .name = "NickServ",
                     .description = "identify by sending NickServ IDENTIFY once connected"};
}

}  // namespace

std::vector<LoginFlow> ircLoginFlows(const NetworkConfig& network) {
    if (network.sasl) return {saslFlow(), nickservFlow()};
    return {nickservFlow(), saslFlow()};
}

// --- The login flow --------------------------------------------------------------------------------

Result<LoginStep> IrcLoginProcess::start() {
    LoginStep step;
    step.kind = LoginStep::Kind::Fields;
    step.instructions = "Logging in to " + network_ + " with your registered IRC account (" +
                        (method_ == "sasl" ? "SASL" : "NickServ IDENTIFY") +
                        "). Your IRC connection there then uses the account's name as its nick.";
    step.fields = {
        LoginField{.id = "account", .label = "Your account name on " + network_, .kind = LoginField::Kind::Text,
                   .required = true, .defaultValue = {}},
        LoginField{.id = "password", .label = "Its password", .kind = LoginField::Kind::Secret, .required = true,
                   .defaultValue = {}},
    };
    return step;
}

Result<LoginStep> IrcLoginProcess::submit(const LoginInput& input) {
    const std::string account = input.value("account");
    if (!isValidNick(account, kMaxAccountLength))
        return Error::permanent("M_INVALID_PARAM", "\"" + account + "\" is not an IRC account name (a nick).");
    const Secret<std::string>* password = input.secret("password");
    if (!password || password->empty())
        return Error::permanent("M_INVALID_PARAM", "An IRC login needs the account's password.");
    Login login;
    login.remoteName = account;
    login.secret = *password;
    login.data = {{"auth", method_}};
    LoginStep done;
    done.kind = LoginStep::Kind::Complete;
    done.login = std::move(login);
    return done;
}

// --- The framework's remote client of a puppet ------------------------------------------------------

PuppetLoginClient::PuppetLoginClient(IrcNetwork& network, UserId user, RemoteClientHandle handle, bool connectNow)
    : network_(network), user_(std::move(user)), handle_(std::move(handle)), connectNow_(connectNow),
      id_(network.newLoginClientId()) {}

void PuppetLoginClient::connect() { network_.loginStarted(user_, id_, handle_, connectNow_); }

void PuppetLoginClient::disconnect() { network_.loginStopped(user_, id_); }

// --- The network's side ------------------------------------------------------------------------------

void IrcNetwork::claimLogin(const UserId& user) {
    (void)ctx_.remoteClients().acquire(LoginKey{user, config_.name, ""});
}

void IrcNetwork::loginStarted(const UserId& user, std::uint64_t clientId, RemoteClientHandle handle, bool connectNow) {
    const PuppetSetup setup = puppetSetup(user);  // the store: read before the lock
    std::unique_ptr<Puppet> replaced;
    std::optional<StateChange> adoptedState;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        loginClients_[user] = LoginClient{.id = clientId, .handle = handle};
        Puppet* p = puppets_.find(user);
        if (p && p->released) {
            // Its client was let go with lines queued, and a new login follows: a new connection,
            // identified with what is stored now, once the old one has quit.
            replaced = puppets_.take(user);
            carried_[user] = {replaced->displayName, replaced->channels};
            replaced->state = ConnectionState::Stopped;
            quitting_.insert(user);
            startWhenQuit_.insert(user);
        } else if (p) {
            // A puppet from before the client (made by a hook): it reports through it from now.
            p->login = handle;
            p->loginClient = clientId;
            adoptedState = StateChange{.state = p->state, .reason = p->stateReason};
        } else if (connectNow) {
            if (quitting_.count(user)) startWhenQuit_.insert(user);
            else startLoginPuppet(user, setup);
        }
    }
    if (adoptedState) reportPuppetState(user, handle, *adoptedState);
    if (replaced) {
        log_.info("puppet reconnecting for a new login", {{"user", user.str()}});
        retirePuppet(std::move(replaced), "Logging in again", [this, user] { loginPuppetQuit(user); });
    }
}

void IrcNetwork::loginStopped(const UserId& user, std::uint64_t clientId) {
    std::unique_ptr<Puppet> quit;
    {
        std::lock_guard lock(mutex_);
        if (auto it = loginClients_.find(user); it != loginClients_.end() && it->second.id == clientId)
            loginClients_.erase(it);
        // Shutting down: stop() quits every puppet and keeps what is queued owed.
        if (stopped_) return;
        Puppet* p = puppets_.find(user);
        if (!p || p->loginClient != clientId) return;  // made for a later client, or gone already
        if (p->conn.info().queuedLines > 0) {
            // Lines of Matrix messages still wait for the flood control: they go out first (or
            // stay owed if the bridge is stopping); tick() retires the puppet after them.
            p->released = true;
            return;
        }
        quit = puppets_.take(user);
        carried_[user] = {quit->displayName, quit->channels};
        quit->state = ConnectionState::Stopped;
        quitting_.insert(user);
    }
    log_.info("puppet logged out", {{"user", user.str()}});
    retirePuppet(std::move(quit), "Logged out", [this, user] { loginPuppetQuit(user); });
}

void IrcNetwork::loginPuppetQuit(const UserId& user) {
    const PuppetSetup setup = puppetSetup(user);
    std::lock_guard lock(mutex_);
    quitting_.erase(user);
    if (!startWhenQuit_.erase(user) || stopped_ || puppets_.find(user) || !loginClients_.count(user)) return;
    startLoginPuppet(user, setup);
}

void IrcNetwork::startLoginPuppet(const UserId& user, const PuppetSetup& setup) {
    std::pair<std::string, std::map<std::string, std::string>> carried;
    if (auto it = carried_.find(user); it != carried_.end()) {
        carried = std::move(it->second);
        carried_.erase(it);
    }
    Puppet& p = puppetFor(user, carried.first, &setup);
    for (const auto& [folded, key] : carried.second) {
        auto ch = channels_.find(folded);
        p.joinOnce(ch != channels_.end() ? ch->second.name : folded, key);
    }
}

std::vector<std::unique_ptr<Puppet>> IrcNetwork::takeReleasedIdle() {
    auto taken = puppets_.takeWhere([](const Puppet& p) { return p.released && p.conn.info().queuedLines == 0; });
    for (auto& p : taken) {
        carried_[p->user] = {p->displayName, p->channels};
        p->state = ConnectionState::Stopped;
        quitting_.insert(p->user);
    }
    return taken;
}

}  // namespace mxbridge::irc
