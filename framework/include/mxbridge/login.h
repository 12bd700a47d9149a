// Per-user logins: a Matrix user's own account on the remote network, and the remote client
// (connection, session) that acts as them there. Optional: a connector that supports logins
// also implements LoginHandler, and the framework then provides, for every such bridge:
//   - the commands !login [network] [flow], !logout [network] [login], !status, !reconnect
//     and !cancel, in the DM with the bridge bot: a Fields step is asked one field per
//     message, and the answer to a Secret field is redacted by the bot at once and never
//     echoed, logged or counted; a step not answered (or not checked by the bridge) within
//     login.step_timeout_seconds ends the login with a message saying so. A bridge's own
//     command of the same name replaces the framework's. A bridge without a LoginHandler
//     keeps only !login, which says there is nothing to log in to;
//   - the same in the provisioning API: GET /logins, POST /login/start, POST /login/step,
//     DELETE /login;
//   - stored logins, secrets encrypted at rest (database.secret_key); at start each stored
//     login's client is made (makeClient: no network calls) and connect()ed;
//   - clients created on demand (RemoteClients::acquire), reaped after login.idle_minutes
//     without touch() unless reapable() says no, and the state of each reported through its
//     RemoteClientHandle (see remote_state.h).
// Like mautrix bridgev2's NetworkConnector/NetworkAPI split: the connector makes clients, a
// client is one login's connection.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/ids.h"
#include "mxbridge/log.h"
#include "mxbridge/remote_state.h"
#include "mxbridge/result.h"
#include "mxbridge/store.h"

namespace mxbridge {

// Which login: the owner's account `id` on `network`. `id` is the remote account's stable id
// (e.g. a Slack user id), or empty on networks where a Matrix user has one login per network.
struct LoginKey {
    UserId owner;
    std::string network;
    std::string id;
    friend bool operator<(const LoginKey& a, const LoginKey& b) {
        if (a.owner.str() != b.owner.str()) return a.owner.str() < b.owner.str();
        if (a.network != b.network) return a.network < b.network;
        return a.id < b.id;
    }
    friend bool operator==(const LoginKey& a, const LoginKey& b) {
        return a.owner.str() == b.owner.str() && a.network == b.network && a.id == b.id;
    }
};

// --- Login flows: how a user proves who they are on the network, step by step ---

struct LoginField {
    enum class Kind { Text, Secret, Server, Number };
    std::string id;     // key in LoginInput, e.g. "password"
    std::string label;  // what the user is asked, e.g. "Your NickServ password"
    Kind kind = Kind::Text;  // Secret: redacted in the DM and never echoed, logged or counted
    bool required = true;
    std::string defaultValue;  // used when the user skips an optional field
};

// What the user typed, by field id. Secret fields arrive wrapped.
struct LoginInput {
    std::map<std::string, std::string> values;
    std::map<std::string, Secret<std::string>> secrets;
    // The value of `id`, or `fallback` when it was left out.
    std::string value(const std::string& id, const std::string& fallback = {}) const {
        auto it = values.find(id);
        return it == values.end() ? fallback : it->second;
    }
    const Secret<std::string>* secret(const std::string& id) const {
        auto it = secrets.find(id);
        return it == secrets.end() ? nullptr : &it->second;
    }
};

struct LoginStep {
    enum class Kind {
        Fields,          // ask the user for `fields`, then LoginProcess::submit
        DisplayAndWait,  // show `display` (a URL or a code), then LoginProcess::wait
        Complete,        // done: the framework stores `login` and starts its client
    };
    Kind kind = Kind::Fields;
    std::string instructions;        // shown to the user before the fields or the display
    std::vector<LoginField> fields;  // Fields
    std::string display;             // DisplayAndWait
    std::optional<Login> login;      // Complete: what to store (owner and network are filled in)
};

struct LoginFlow {
    std::string id;           // e.g. "password", "token", "sasl"
    std::string name;         // e.g. "SASL password"
    std::string description;  // one line for !login's menu
};

// One user's login in progress. Created by LoginHandler::createLogin; every call runs on a
// framework login worker, off every room queue, and may block on the network for up to
// login.step_timeout_seconds (default 120): checking a password by connecting is fine.
// A failed Result ends the flow and its message is shown to the user (never a secret).
class LoginProcess {
public:
    virtual ~LoginProcess() = default;
    virtual Result<LoginStep> start() = 0;
    // The answer to a Fields step.
    virtual Result<LoginStep> submit(const LoginInput& input) = 0;
    // After a DisplayAndWait step: returns once the user did what was shown, or fails.
    virtual Result<LoginStep> wait() {
        return Error::permanent("unsupported", "this login flow has nothing to wait for");
    }
    // The user gave up (!cancel, a new !login, the time ran out); called on any thread.
    virtual void cancel() {}
};

// --- Remote clients: one per running login ---

// The framework's side of one client, handed to it at creation. Copyable, thread-safe.
// Once the client is retired (logout, reaped, replaced by !reconnect), everything it reports
// through here is ignored and isCurrent() says false, so a late callback of an old
// connection can never change the state of the new one.
class RemoteClientHandle {
public:
    class Sink;  // framework-internal
    RemoteClientHandle() = default;
    RemoteClientHandle(std::shared_ptr<Sink> sink, LoginKey key, uint64_t generation)
        : sink_(std::move(sink)), key_(std::move(key)), generation_(generation) {}

    const LoginKey& key() const { return key_; }
    // The client's state: logged, counted, told to the owner when they must act.
    void report(const RemoteStatus& status) const;
    // The client is still the one the framework runs for this login.
    bool isCurrent() const;
    // The client did something for its user (sent or received a message): postpones reaping.
    void touch() const;
    // The network renamed the account, refreshed a token…: the stored login is replaced
    // (secrets encrypted). Ignored once retired.
    void updateLogin(const Login& login) const;

private:
    std::shared_ptr<Sink> sink_;
    LoginKey key_;
    uint64_t generation_ = 0;
};

class RemoteClient {
public:
    virtual ~RemoteClient() = default;
    // Starts connecting and returns at once; never throws: trouble is a state to report.
    virtual void connect() = 0;
    // Logs off and lets go (reaped, !logout, shutdown); returns at once. After this the
    // framework ignores the client's reports; it is destroyed once no one holds it.
    virtual void disconnect() = 0;
    // Whether the framework may reap it after login.idle_minutes without touch(): false for
    // a client that must stay (e.g. it holds channels open for its user).
    virtual bool reapable() const { return true; }
};

// The optional connector interface for bridges with per-user logins.
class LoginHandler {
public:
    virtual ~LoginHandler() = default;
    // The networks a user can log in to ("libera", "oftc"…); the first is the default of
    // !login without an argument.
    virtual std::vector<std::string> loginNetworks() const = 0;
    // How one logs in to `network`; the first is the default.
    virtual std::vector<LoginFlow> loginFlows(const std::string& network) const = 0;
    virtual std::unique_ptr<LoginProcess> createLogin(const UserId& user, const std::string& network,
                                                      const std::string& flowId) = 0;
    // Makes the client for `login` without connecting. Must not block or do network calls:
    // it runs for every stored login at start. `login` is a stored one, or for a key without
    // one, only its owner and network (networks where anyone may connect, such as IRC, return
    // a client; others return nullptr).
    virtual std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) = 0;
    // Several logins per Matrix user on `network` (e.g. two Slack workspaces).
    virtual bool allowsSeveralLogins(const std::string& /*network*/) const { return false; }
};

// The running clients, from BridgeContext::remoteClients(). Any thread; never blocks.
class RemoteClients {
public:
    virtual ~RemoteClients() = default;
    // The running client of `key`; created with makeClient and connect()ed if there is none.
    // nullptr when the connector makes none for it (no stored login on a network that needs
    // one). Counts as activity for reaping.
    virtual std::shared_ptr<RemoteClient> acquire(const LoginKey& key) = 0;
    // The running client of `key`, without creating one.
    virtual std::shared_ptr<RemoteClient> find(const LoginKey& key) = 0;
    // Disconnects the running client and makes a new one (what !reconnect does).
    virtual void restart(const LoginKey& key) = 0;
    // The last reported status of `key` and since when, if it has a client.
    struct Entry {
        LoginKey key;
        RemoteStatus status;
        std::chrono::system_clock::time_point since;
    };
    virtual std::vector<Entry> list(const UserId& owner) = 0;
};

}  // namespace mxbridge
