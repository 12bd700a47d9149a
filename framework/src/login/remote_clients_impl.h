// The running remote clients of a bridge with logins (login.h's RemoteClients): one per
// login key, made on demand with LoginHandler::makeClient and connect()ed, retired on logout,
// restart, shutdown or after login.idle_minutes without activity (unless the client says it
// is not reapable). Each client gets a handle with a generation: once the client is retired
// the generation is no longer current and whatever it still reports is dropped, so a late
// callback of an old connection never changes the state of its successor.
//
// Locking: one mutex guards the table; bridge code (makeClient, connect, disconnect,
// reapable) is never called while it is held, so a client may call its handle from inside
// those. Reports are serialised by a second mutex that a retirement also takes, so a
// report that passed the generation check cannot land after the retirement's "stopped".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/log.h"
#include "mxbridge/login.h"
#include "store/login_store.h"

namespace mxbridge::detail {

class RemoteClientsImpl final : public RemoteClients {
public:
    using ReportState = std::function<void(const StateSubject&, const RemoteStatus&)>;
    using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

    struct Deps {
        LoginHandler* handler = nullptr;  // nullptr: the bridge has no logins; nothing is made
        LoginStore& store;
        ReportState reportState;                // BridgeContext::reportState
        std::chrono::minutes idleTimeout{0};    // login.idle_minutes; 0: never reaped
        SteadyNow now = {};                     // empty: the steady clock
        Logger log{"logins"};
    };

    explicit RemoteClientsImpl(Deps deps);
    // Disconnects what still runs (stopAll).
    ~RemoteClientsImpl() override;
    RemoteClientsImpl(const RemoteClientsImpl&) = delete;
    RemoteClientsImpl& operator=(const RemoteClientsImpl&) = delete;

    // --- RemoteClients ---
    std::shared_ptr<RemoteClient> acquire(const LoginKey& key) override;
    std::shared_ptr<RemoteClient> find(const LoginKey& key) override;
    void restart(const LoginKey& key) override;
    std::vector<Entry> list(const UserId& owner) override;

    // --- the framework's side ---
    bool hasLogins() const { return deps_.handler != nullptr; }
    LoginHandler* handler() const { return deps_.handler; }
    // At start: a client for every stored login, each connect()ed (which returns at once;
    // makeClient must not touch the network). Returns how many run. A store that cannot be
    // read (database.secret_key changed) is logged and leaves the logins stopped.
    size_t loadStored();
    // A login flow completed: stores `login` (secrets sealed) and replaces any running client
    // of its key with one made from it.
    void loggedIn(const Login& login);
    // !logout / DELETE /login: the client is disconnected and the stored login forgotten.
    // False when there was neither.
    bool logout(const LoginKey& key);
    // Retires clients idle for longer than login.idle_minutes whose reapable() agrees.
    // Returns how many were reaped. Called by a framework timer.
    size_t reapIdle();
    // Shutdown: every client disconnected and retired.
    void stopAll();

private:
    class SinkImpl;
    struct Slot {
        std::shared_ptr<RemoteClient> client;
        uint64_t generation = 0;
        std::chrono::steady_clock::time_point lastActive;
        RemoteStatus status;
        std::chrono::system_clock::time_point since;
    };

    std::shared_ptr<RemoteClient> start(const LoginKey& key, std::optional<Login> login);
    // Takes the running client of `key` out of the table (its generation stops being
    // current) and reports `why` as its stopped state; the caller disconnects it.
    std::shared_ptr<RemoteClient> retire(const LoginKey& key, const std::string& why);
    void disconnect(const std::shared_ptr<RemoteClient>& client, const LoginKey& key);
    std::chrono::steady_clock::time_point now() const;
    static StateSubject subjectOf(const LoginKey& key);

    // From the sink:
    void reportFrom(const LoginKey& key, uint64_t generation, const RemoteStatus& status);
    bool isCurrent(const LoginKey& key, uint64_t generation);
    void touchFrom(const LoginKey& key, uint64_t generation);
    void updateFrom(const LoginKey& key, uint64_t generation, const Login& login);

    Deps deps_;
    std::shared_ptr<SinkImpl> sink_;
    std::mutex reportMutex_;  // taken before mutex_, never the other way round
    std::mutex mutex_;
    std::map<LoginKey, Slot> slots_;
    uint64_t nextGeneration_ = 1;
};

}  // namespace mxbridge::detail
