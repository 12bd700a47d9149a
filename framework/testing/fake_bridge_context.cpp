// FakeBridgeContext: the kit's pieces behind the BridgeContext interface.
#include "mxbridge/testing/fake_bridge_context.h"

#include <stdexcept>

#include "bridge/ghost_names.h"
#include "login/remote_clients_impl.h"
#include "store/memory_login_store.h"

namespace mxbridge::testing {

namespace {

// Ghosts from the kit's MemoryUserStore, logins from the store RemoteClients reads, so a
// connector's users().login() and the framework's clients see the same logins.
class SharedLoginUserStore final : public UserStore {
public:
    SharedLoginUserStore(MemoryUserStore& ghosts, detail::LoginStore& logins) : ghosts_(ghosts), logins_(logins) {}
    void setGhost(const UserId& ghost, const RemoteUserId& remote) override { ghosts_.setGhost(ghost, remote); }
    std::optional<RemoteUserId> remoteForGhost(const UserId& ghost) override { return ghosts_.remoteForGhost(ghost); }
    std::optional<UserId> ghostForRemote(const RemoteUserId& remote) override { return ghosts_.ghostForRemote(remote); }
    void saveLogin(const Login& login) override { logins_.save(login); }
    std::optional<Login> login(const UserId& user, const std::string& network) override {
        return logins_.find(LoginKey{user, network, ""});
    }
    void removeLogin(const UserId& user, const std::string& network) override {
        logins_.remove(LoginKey{user, network, ""});
    }
    std::vector<Login> logins(const std::string& network) override {
        std::vector<Login> out;
        for (Login& l : logins_.all())
            if (l.network == network) out.push_back(std::move(l));
        return out;
    }

private:
    MemoryUserStore& ghosts_;
    detail::LoginStore& logins_;
};

}  // namespace

struct FakeBridgeContext::Logins {
    detail::MemoryLoginStore store;
    SharedLoginUserStore users;
    std::unique_ptr<detail::RemoteClientsImpl> clients;
    TimerHandle reaper;

    Logins(FakeBridgeContext& ctx, LoginHandler* handler) : users(ctx.users_, store) { make(ctx, handler); }
    void make(FakeBridgeContext& ctx, LoginHandler* handler) {
        reaper.cancel();
        clients.reset();
        clients = std::make_unique<detail::RemoteClientsImpl>(detail::RemoteClientsImpl::Deps{
            .handler = handler,
            .store = store,
            .reportState = [&ctx](const StateSubject& s, const RemoteStatus& st) { ctx.reportState(s, st); },
            .idleTimeout = std::chrono::minutes(ctx.options_.loginIdleMinutes),
            .now = [&ctx] { return std::chrono::steady_clock::time_point(ctx.clock_.now()); },
        });
        // As the runtime does: a look for idle clients every minute.
        if (ctx.options_.loginIdleMinutes > 0)
            reaper = ctx.clock_.every(std::chrono::minutes(1), [this] { clients->reapIdle(); });
    }
};

FakeBridgeContext::FakeBridgeContext(FakeContextOptions options)
    : options_(std::move(options)),
      config_(options_.config, "bridge", "test-config.yaml", {}),
      bot_("@" + options_.botLocalpart + ":" + options_.serverName),
      commands_(options_.bridgeName),
      media_(options_.mediaPublicUrl),
      logins_(std::make_unique<Logins>(*this, nullptr)) {
    size_t id = options_.userTemplate.find("{id}");
    if (id == std::string::npos)
        throw std::invalid_argument("FakeContextOptions::userTemplate needs one {id}: " +
                                    options_.userTemplate);
    ghostPrefix_ = options_.userTemplate.substr(0, id);
    ghostSuffix_ = options_.userTemplate.substr(id + 4);
}

FakeBridgeContext::~FakeBridgeContext() = default;

UserStore& FakeBridgeContext::users() { return logins_->users; }
RemoteClients& FakeBridgeContext::remoteClients() { return *logins_->clients; }
void FakeBridgeContext::enableLogins(LoginHandler& handler) { logins_->make(*this, &handler); }
size_t FakeBridgeContext::startStoredLogins() { return logins_->clients->loadStored(); }
void FakeBridgeContext::completeLogin(const Login& login) { logins_->clients->loggedIn(login); }
bool FakeBridgeContext::logout(const LoginKey& key) { return logins_->clients->logout(key); }

std::optional<std::string> FakeMediaLinks::publicUrl(std::string_view mxc, std::string_view fileName) const {
    if (publicUrl_.empty() || !isValidMxcUri(mxc)) return std::nullopt;
    std::string_view rest = mxc.substr(6);  // after "mxc://"
    const size_t slash = rest.find('/');
    std::string url = publicUrl_ + "/_mxbridge/media/test-" + std::string(rest.substr(0, slash)) + "-" +
                      std::string(rest.substr(slash + 1));
    if (!fileName.empty()) url += "/" + std::string(fileName);
    return url;
}

UserId FakeBridgeContext::ghostUserId(const std::string& ghostId) const {
    return detail::ghostUserIdFor(ghostPrefix_, ghostSuffix_, options_.serverName, ghostId);
}

bool FakeBridgeContext::isGhost(const UserId& user) const {
    if (user == bot_ || serverOf(user.str()) != options_.serverName) return false;
    std::string_view local = localpartOf(user.str());
    return local.size() >= ghostPrefix_.size() + ghostSuffix_.size() &&
           local.starts_with(ghostPrefix_) && local.ends_with(ghostSuffix_);
}

void FakeBridgeContext::queueRemote(RemoteEvent event) {
    std::lock_guard lock(mutex_);
    remoteEvents_.push_back(std::move(event));
}

void FakeBridgeContext::reportDeliveryFailure(const RoomId& room, const EventId& event, const Error& error) {
    std::lock_guard lock(mutex_);
    failures_.push_back(DeliveryFailure{.room = room, .event = event, .error = error});
}

void FakeBridgeContext::tellUser(const UserId& user, const std::string& text) {
    std::lock_guard lock(mutex_);
    told_.emplace_back(user, text);
}

std::vector<std::pair<UserId, std::string>> FakeBridgeContext::toldUsers() const {
    std::lock_guard lock(mutex_);
    return told_;
}

void FakeBridgeContext::reportState(const StateSubject& subject, const RemoteStatus& status) {
    std::lock_guard lock(mutex_);
    states_.push_back(ReportedState{.subject = subject, .status = status});
}

RecordingIntent& FakeBridgeContext::intentFor(const UserId& user) {
    std::lock_guard lock(mutex_);
    std::unique_ptr<RecordingIntent>& intent = intents_[user];
    if (!intent) intent = std::make_unique<RecordingIntent>(user, options_.serverName, intentLog_, clock_);
    return *intent;
}

std::vector<RemoteEvent> FakeBridgeContext::remoteEvents() const {
    std::lock_guard lock(mutex_);
    return remoteEvents_;
}

std::vector<DeliveryFailure> FakeBridgeContext::deliveryFailures() const {
    std::lock_guard lock(mutex_);
    return failures_;
}

std::vector<ReportedState> FakeBridgeContext::reportedStates() const {
    std::lock_guard lock(mutex_);
    return states_;
}

std::optional<RemoteStatus> FakeBridgeContext::lastState(const std::string& network, const UserId& owner,
                                                         const std::string& loginId) const {
    std::lock_guard lock(mutex_);
    for (auto it = states_.rbegin(); it != states_.rend(); ++it)
        if (it->subject.network == network && it->subject.owner == owner && it->subject.loginId == loginId)
            return it->status;
    return std::nullopt;
}

void FakeBridgeContext::clearRecords() {
    {
        std::lock_guard lock(mutex_);
        remoteEvents_.clear();
        failures_.clear();
        told_.clear();
        states_.clear();
    }
    intentLog_.clear();
}

}  // namespace mxbridge::testing
