// RemoteClientsImpl: one client per login, made on demand; what a retired client reports is
// not heard; idle clients are reaped unless they say they must stay.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "login/remote_clients_impl.h"
#include "mxbridge/testing/manual_clock.h"
#include "store/memory_login_store.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace std::chrono_literals;

namespace {

const UserId kAlice("@alice:hs.test");
const UserId kBob("@bob:hs.test");
const LoginKey kAliceLibera{kAlice, "libera", ""};
const LoginKey kBobLibera{kBob, "libera", ""};

// One remote connection as a bridge would make it: remembers its handle and what it was told.
struct ProbeClient final : RemoteClient {
    ProbeClient(Login login, RemoteClientHandle handle) : login(std::move(login)), handle(std::move(handle)) {}
    void connect() override {
        ++connects;
        // Reporting from inside connect() must not deadlock: the framework holds no lock here.
        handle.report({.state = RemoteState::Connecting, .reason = {}, .code = {}});
    }
    void disconnect() override {
        ++disconnects;
        handle.report({.state = RemoteState::TransientDisconnect, .reason = "closing", .code = {}});
    }
    bool reapable() const override { return mayReap; }
    Login login;
    RemoteClientHandle handle;
    std::atomic<int> connects{0};
    std::atomic<int> disconnects{0};
    std::atomic<bool> mayReap{true};
};

// Makes clients for stored logins only on "slack"; on "libera" anyone may connect (IRC).
struct ProbeHandler final : LoginHandler {
    std::vector<std::string> loginNetworks() const override { return {"libera", "slack"}; }
    std::vector<LoginFlow> loginFlows(const std::string&) const override { return {{"password", "Password", ""}}; }
    std::unique_ptr<LoginProcess> createLogin(const UserId&, const std::string&, const std::string&) override {
        return nullptr;
    }
    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override {
        if (login.network == "slack" && login.remoteName.empty()) return nullptr;
        auto client = std::make_unique<ProbeClient>(login, handle);
        std::lock_guard lock(mutex);
        made.push_back(client.get());
        return client;
    }
    std::mutex mutex;
    std::vector<ProbeClient*> made;
};

struct Rig {
    explicit Rig(std::chrono::minutes idle = 0min)
        : clients({.handler = &handler,
                   .store = store,
                   .reportState = [this](const StateSubject& s, const RemoteStatus& st) {
                       std::lock_guard lock(mutex);
                       reports.emplace_back(s, st);
                   },
                   .idleTimeout = idle,
                   .now = [this] { return std::chrono::steady_clock::time_point(clock.now()); }}) {}

    std::vector<RemoteState> statesOf(const LoginKey& key) {
        std::lock_guard lock(mutex);
        std::vector<RemoteState> out;
        for (const auto& [s, st] : reports)
            if (s.owner == key.owner && s.network == key.network && s.loginId == key.id) out.push_back(st.state);
        return out;
    }

    ProbeHandler handler;
    MemoryLoginStore store;
    mxbridge::testing::ManualClock clock;
    std::mutex mutex;
    std::vector<std::pair<StateSubject, RemoteStatus>> reports;
    RemoteClientsImpl clients;  // last: stopped first
};

Login loginOf(const UserId& user, const std::string& network, const std::string& name,
              const std::string& secret = {}) {
    Login login;
    login.user = user;
    login.network = network;
    login.remoteName = name;
    login.secret = Secret<std::string>(secret);
    return login;
}

ProbeClient& probe(const std::shared_ptr<RemoteClient>& c) { return dynamic_cast<ProbeClient&>(*c); }

}  // namespace

TEST_CASE("stored logins are running again after a start, each made with its stored secret") {
    Rig rig;
    rig.store.save(loginOf(kAlice, "slack", "alice", "xoxc-alice"));
    rig.store.save(loginOf(kBob, "libera", "bob"));
    CHECK(rig.clients.loadStored() == 2);
    REQUIRE(rig.handler.made.size() == 2);
    auto alice = rig.clients.find(LoginKey{kAlice, "slack", ""});
    REQUIRE(alice);
    CHECK(probe(alice).login.secret.reveal() == "xoxc-alice");
    CHECK(probe(alice).connects == 1);
    CHECK(rig.statesOf(LoginKey{kAlice, "slack", ""}) == std::vector{RemoteState::Connecting});
}

TEST_CASE("one client per login: acquire makes it once and hands the same one back") {
    Rig rig;
    auto first = rig.clients.acquire(kAliceLibera);
    auto again = rig.clients.acquire(kAliceLibera);
    REQUIRE(first);
    CHECK(first == again);
    CHECK(probe(first).connects == 1);
    CHECK(rig.clients.acquire(kBobLibera) != first);
    // A network that needs a login makes nothing for a user without one.
    CHECK_FALSE(rig.clients.acquire(LoginKey{kAlice, "slack", ""}));
    CHECK(rig.handler.made.size() == 2);
}

TEST_CASE("a retired client's late callbacks change nothing") {
    Rig rig;
    auto old = rig.clients.acquire(kAliceLibera);
    RemoteClientHandle oldHandle = probe(old).handle;
    rig.clients.restart(kAliceLibera);  // !reconnect
    auto current = rig.clients.find(kAliceLibera);
    REQUIRE(current);
    CHECK(current != old);
    CHECK(probe(old).disconnects == 1);

    size_t reportsBefore = rig.statesOf(kAliceLibera).size();
    oldHandle.report({.state = RemoteState::BadCredentials, .reason = "old socket's late error", .code = {}});
    oldHandle.updateLogin(loginOf(kAlice, "libera", "stale"));
    oldHandle.touch();
    CHECK_FALSE(oldHandle.isCurrent());
    CHECK(probe(current).handle.isCurrent());
    CHECK(rig.statesOf(kAliceLibera).size() == reportsBefore);
    CHECK_FALSE(rig.store.find(kAliceLibera));
    auto listed = rig.clients.list(kAlice);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].status.state == RemoteState::Connecting);

    // The current one's reports and updates are heard.
    probe(current).handle.report({.state = RemoteState::Connected, .reason = {}, .code = {}});
    probe(current).handle.updateLogin(loginOf(kBob, "oftc", "alice_"));
    CHECK(rig.clients.list(kAlice)[0].status.state == RemoteState::Connected);
    REQUIRE(rig.store.find(kAliceLibera));  // kept under its own key, whatever the client said
    CHECK(rig.store.find(kAliceLibera)->remoteName == "alice_");
}

TEST_CASE("logging out stops the client, forgets the login and reports it stopped") {
    Rig rig;
    rig.clients.loggedIn(loginOf(kAlice, "slack", "alice", "xoxc"));
    LoginKey key{kAlice, "slack", ""};
    auto client = rig.clients.find(key);
    REQUIRE(client);
    RemoteClientHandle handle = probe(client).handle;
    CHECK(rig.clients.logout(key));
    CHECK(probe(client).disconnects == 1);
    CHECK_FALSE(rig.store.find(key));
    CHECK_FALSE(rig.clients.find(key));
    CHECK(rig.statesOf(key).back() == RemoteState::Stopped);
    // What the closing client said while disconnecting came after it was retired.
    handle.report({.state = RemoteState::Connected, .reason = {}, .code = {}});
    CHECK(rig.statesOf(key).back() == RemoteState::Stopped);
    CHECK_FALSE(rig.clients.logout(key));
}

TEST_CASE("idle clients are reaped after login.idle_minutes, unless reapable() says no or they were used") {
    Rig rig(10min);
    auto alice = rig.clients.acquire(kAliceLibera);
    auto bob = rig.clients.acquire(kBobLibera);
    probe(bob).mayReap = false;  // e.g. holds channels open for its user

    rig.clock.advance(9min);
    probe(alice).handle.touch();  // it sent a message: the ten minutes start again
    rig.clock.advance(2min);
    CHECK(rig.clients.reapIdle() == 0);
    CHECK(rig.clients.find(kAliceLibera));

    rig.clock.advance(9min);
    CHECK(rig.clients.reapIdle() == 1);
    CHECK_FALSE(rig.clients.find(kAliceLibera));
    CHECK(probe(alice).disconnects == 1);
    CHECK(rig.statesOf(kAliceLibera).back() == RemoteState::Stopped);
    CHECK(rig.clients.find(kBobLibera) == bob);
    CHECK(probe(bob).disconnects == 0);

    // Needed again: a new client, and the reaped one's handle is not current.
    auto again = rig.clients.acquire(kAliceLibera);
    REQUIRE(again);
    CHECK(again != alice);
    CHECK_FALSE(probe(alice).handle.isCurrent());
}

TEST_CASE("without login.idle_minutes nothing is reaped") {
    Rig rig;
    auto alice = rig.clients.acquire(kAliceLibera);
    rig.clock.advance(std::chrono::hours(24 * 30));
    CHECK(rig.clients.reapIdle() == 0);
    CHECK(rig.clients.find(kAliceLibera) == alice);
}

TEST_CASE("a bridge without a LoginHandler gets no clients") {
    MemoryLoginStore store;
    RemoteClientsImpl clients({.handler = nullptr, .store = store, .reportState = {}, .idleTimeout = {}, .now = {},
                               .log = Logger("logins")});
    store.save(loginOf(kAlice, "libera", "alice"));
    CHECK_FALSE(clients.hasLogins());
    CHECK(clients.loadStored() == 0);
    CHECK_FALSE(clients.acquire(kAliceLibera));
}

TEST_CASE("shutdown disconnects every client and reports it stopped") {
    Rig rig;
    auto alice = rig.clients.acquire(kAliceLibera);
    auto bob = rig.clients.acquire(kBobLibera);
    rig.clients.stopAll();
    CHECK(probe(alice).disconnects == 1);
    CHECK(probe(bob).disconnects == 1);
    CHECK(rig.statesOf(kBobLibera).back() == RemoteState::Stopped);
    CHECK(rig.clients.list(kAlice).empty());
}
