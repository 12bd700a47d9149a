#include "login/remote_clients_impl.h"

#include <shared_mutex>

#include "login/remote_client_sink.h"

namespace mxbridge::detail {

// Outlives the table when a bridge keeps a handle past shutdown: detach() makes every later
// call a no-op instead of a use of freed memory.
class RemoteClientsImpl::SinkImpl final : public RemoteClientHandle::Sink {
public:
    explicit SinkImpl(RemoteClientsImpl* owner) : owner_(owner) {}
    void detach() {
        std::unique_lock lock(mutex_);
        owner_ = nullptr;
    }
    void report(const LoginKey& key, uint64_t generation, const RemoteStatus& status) override {
        std::shared_lock lock(mutex_);
        if (owner_) owner_->reportFrom(key, generation, status);
    }
    bool isCurrent(const LoginKey& key, uint64_t generation) override {
        std::shared_lock lock(mutex_);
        return owner_ && owner_->isCurrent(key, generation);
    }
    void touch(const LoginKey& key, uint64_t generation) override {
        std::shared_lock lock(mutex_);
        if (owner_) owner_->touchFrom(key, generation);
    }
    void updateLogin(const LoginKey& key, uint64_t generation, const Login& login) override {
        std::shared_lock lock(mutex_);
        if (owner_) owner_->updateFrom(key, generation, login);
    }

private:
    std::shared_mutex mutex_;
    RemoteClientsImpl* owner_;
};

RemoteClientsImpl::RemoteClientsImpl(Deps deps)
    : deps_(std::move(deps)), sink_(std::make_shared<SinkImpl>(this)) {}

RemoteClientsImpl::~RemoteClientsImpl() {
    stopAll();
    sink_->detach();
}

std::chrono::steady_clock::time_point RemoteClientsImpl::now() const {
    return deps_.now ? deps_.now() : std::chrono::steady_clock::now();
}

StateSubject RemoteClientsImpl::subjectOf(const LoginKey& key) {
    return StateSubject{.network = key.network, .owner = key.owner, .loginId = key.id};
}

std::shared_ptr<RemoteClient> RemoteClientsImpl::acquire(const LoginKey& key) {
    if (!deps_.handler) return nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = slots_.find(key);
        if (it != slots_.end()) {
            it->second.lastActive = now();
            return it->second.client;
        }
    }
    std::optional<Login> stored;
    try {
        stored = deps_.store.find(key);
    } catch (const std::exception& e) {
        // A login that cannot be read is not made up from nothing: no client.
        deps_.log.error("stored login cannot be read", {{"user", key.owner.str()}, {"network", key.network},
                                                         {"login", key.id}, {"error", e.what()}});
        return nullptr;
    }
    return start(key, std::move(stored));
}

std::shared_ptr<RemoteClient> RemoteClientsImpl::find(const LoginKey& key) {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(key);
    return it == slots_.end() ? nullptr : it->second.client;
}

std::shared_ptr<RemoteClient> RemoteClientsImpl::start(const LoginKey& key, std::optional<Login> login) {
    if (!login) {
        // No stored login: only its owner and network, for networks anyone may use (IRC).
        login.emplace();
        login->user = key.owner;
        login->network = key.network;
        login->id = key.id;
    }
    uint64_t generation;
    {
        std::lock_guard lock(mutex_);
        generation = nextGeneration_++;
    }
    std::shared_ptr<RemoteClient> client;
    try {
        client = deps_.handler->makeClient(*login, RemoteClientHandle(sink_, key, generation));
    } catch (const std::exception& e) {
        deps_.log.error("the bridge could not make a remote client",
                        {{"user", key.owner.str()}, {"network", key.network}, {"login", key.id}, {"error", e.what()}});
        return nullptr;
    }
    if (!client) return nullptr;
    {
        std::lock_guard lock(mutex_);
        auto [it, inserted] = slots_.try_emplace(key);
        // Another caller made one meanwhile: theirs runs; ours was never current nor
        // connected, and goes with the last reference.
        if (!inserted) return it->second.client;
        it->second = Slot{.client = client, .generation = generation, .lastActive = now(),
                          .status = RemoteStatus{}, .since = std::chrono::system_clock::now()};
    }
    deps_.log.debug("remote client made", {{"user", key.owner.str()}, {"network", key.network},
                                           {"login", key.id}, {"generation", generation}});
    client->connect();
    return client;
}

void RemoteClientsImpl::restart(const LoginKey& key) {
    std::shared_ptr<RemoteClient> old;
    {
        std::lock_guard reports(reportMutex_);
        std::lock_guard lock(mutex_);
        auto it = slots_.find(key);
        if (it != slots_.end()) {
            old = std::move(it->second.client);
            slots_.erase(it);
        }
    }
    // The successor reports its own state (connecting); the old one's is no longer heard.
    disconnect(old, key);
    (void)acquire(key);
}

std::vector<RemoteClients::Entry> RemoteClientsImpl::list(const UserId& owner) {
    std::vector<Entry> out;
    std::lock_guard lock(mutex_);
    for (const auto& [key, slot] : slots_)
        if (key.owner == owner) out.push_back(Entry{.key = key, .status = slot.status, .since = slot.since});
    return out;
}

size_t RemoteClientsImpl::loadStored() {
    if (!deps_.handler) return 0;
    std::vector<Login> stored;
    try {
        stored = deps_.store.all();
    } catch (const std::exception& e) {
        deps_.log.error("stored logins cannot be read; they stay stopped until this is fixed",
                        {{"error", e.what()}});
        return 0;
    }
    size_t running = 0;
    for (Login& login : stored) {
        LoginKey key = keyOf(login);
        if (start(key, std::move(login))) ++running;
    }
    deps_.log.info("stored logins loaded", {{"logins", stored.size()}, {"clients", running}});
    return running;
}

void RemoteClientsImpl::loggedIn(const Login& login) {
    deps_.store.save(login);
    LoginKey key = keyOf(login);
    deps_.log.info("login stored", {{"user", key.owner.str()}, {"network", key.network}, {"login", key.id}});
    restart(key);
}

bool RemoteClientsImpl::logout(const LoginKey& key) {
    bool stored = false;
    try {
        stored = deps_.store.find(key).has_value();
    } catch (const std::exception&) {
        stored = true;  // unreadable (another secret key), but there: removed below all the same
    }
    if (stored) deps_.store.remove(key);
    std::shared_ptr<RemoteClient> client = retire(key, "logged out");
    disconnect(client, key);
    if (stored || client)
        deps_.log.info("logged out", {{"user", key.owner.str()}, {"network", key.network}, {"login", key.id}});
    return stored || client;
}

std::shared_ptr<RemoteClient> RemoteClientsImpl::retire(const LoginKey& key, const std::string& why) {
    std::lock_guard reports(reportMutex_);
    std::shared_ptr<RemoteClient> client;
    {
        std::lock_guard lock(mutex_);
        auto it = slots_.find(key);
        if (it == slots_.end()) return nullptr;
        client = std::move(it->second.client);
        slots_.erase(it);
    }
    if (deps_.reportState)
        deps_.reportState(subjectOf(key), RemoteStatus{.state = RemoteState::Stopped, .reason = why, .code = {}});
    return client;
}

void RemoteClientsImpl::disconnect(const std::shared_ptr<RemoteClient>& client, const LoginKey& key) {
    if (!client) return;
    try {
        client->disconnect();
    } catch (const std::exception& e) {
        deps_.log.warn("a remote client threw while disconnecting",
                       {{"user", key.owner.str()}, {"network", key.network}, {"error", e.what()}});
    }
}

size_t RemoteClientsImpl::reapIdle() {
    if (deps_.idleTimeout.count() <= 0) return 0;
    struct Candidate {
        LoginKey key;
        std::shared_ptr<RemoteClient> client;
        uint64_t generation;
    };
    std::vector<Candidate> idle;
    auto cutoff = now() - deps_.idleTimeout;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [key, slot] : slots_)
            if (slot.lastActive <= cutoff) idle.push_back(Candidate{key, slot.client, slot.generation});
    }
    size_t reaped = 0;
    for (Candidate& c : idle) {
        bool mayReap = true;
        try {
            mayReap = c.client->reapable();  // bridge code: outside the lock
        } catch (const std::exception&) {
            mayReap = false;  // when in doubt, a user's connection stays
        }
        if (!mayReap) continue;
        std::shared_ptr<RemoteClient> client;
        {
            std::lock_guard reports(reportMutex_);
            std::lock_guard lock(mutex_);
            auto it = slots_.find(c.key);
            // Touched, restarted or logged out meanwhile: not ours to reap any more.
            if (it == slots_.end() || it->second.generation != c.generation || it->second.lastActive > cutoff)
                continue;
            client = std::move(it->second.client);
            slots_.erase(it);
        }
        if (deps_.reportState)
            deps_.reportState(subjectOf(c.key),
                              RemoteStatus{.state = RemoteState::Stopped, .reason = "idle", .code = "idle"});
        deps_.log.info("idle remote client stopped",
                       {{"user", c.key.owner.str()}, {"network", c.key.network}, {"login", c.key.id}});
        disconnect(client, c.key);
        ++reaped;
    }
    return reaped;
}

void RemoteClientsImpl::stopAll() {
    std::vector<LoginKey> keys;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [key, _] : slots_) keys.push_back(key);
    }
    for (const LoginKey& key : keys) disconnect(retire(key, "bridge stopped"), key);
}

void RemoteClientsImpl::reportFrom(const LoginKey& key, uint64_t generation, const RemoteStatus& status) {
    std::lock_guard reports(reportMutex_);
    {
        std::lock_guard lock(mutex_);
        auto it = slots_.find(key);
        if (it == slots_.end() || it->second.generation != generation) return;  // retired
        if (it->second.status.state != status.state) it->second.since = std::chrono::system_clock::now();
        it->second.status = status;
    }
    if (deps_.reportState) deps_.reportState(subjectOf(key), status);
}

bool RemoteClientsImpl::isCurrent(const LoginKey& key, uint64_t generation) {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(key);
    return it != slots_.end() && it->second.generation == generation;
}

void RemoteClientsImpl::touchFrom(const LoginKey& key, uint64_t generation) {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(key);
    if (it != slots_.end() && it->second.generation == generation) it->second.lastActive = now();
}

void RemoteClientsImpl::updateFrom(const LoginKey& key, uint64_t generation, const Login& login) {
    if (!isCurrent(key, generation)) return;
    Login copy = login;
    // The key is the framework's: a client cannot move its login to another user or network.
    copy.user = key.owner;
    copy.network = key.network;
    copy.id = key.id;
    try {
        deps_.store.save(copy);
    } catch (const std::exception& e) {
        deps_.log.error("an updated login could not be stored",
                        {{"user", key.owner.str()}, {"network", key.network}, {"error", e.what()}});
    }
}

}  // namespace mxbridge::detail
