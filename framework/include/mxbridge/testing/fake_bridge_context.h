// A BridgeContext for unit tests of a connector: no process, no homeserver, no database.
// It records what the connector asks of the framework (queueRemote, reportDeliveryFailure,
// intent actions, commands, timers) and keeps the stores in memory, so a test drives the
// connector's hooks directly and checks what came out (reportState calls too:
// reportedStates(), lastState()):
//
//   mxbridge::testing::FakeBridgeContext ctx({.config = {{"prefix", "> "}}});
//   connector.start(ctx);
//   connector.onMatrixMessage(message);
//   CHECK(ctx.remoteEventsOf<RemoteMessage>().at(0).body == "> hi");
//   ctx.clock().advance(std::chrono::seconds(30));  // timers due by then fire, in order
//
// Link with mxbridge::testing (find_package(mxbridge) provides it). Thread-safe like the real
// context; timers and deferred intent answers run only inside clock().advance().
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxbridge/connector.h"
#include "mxbridge/testing/manual_clock.h"
#include "mxbridge/testing/memory_stores.h"
#include "mxbridge/testing/recording_command_registry.h"
#include "mxbridge/testing/recording_intent.h"

namespace mxbridge::testing {

struct FakeContextOptions {
    nlohmann::json config = nlohmann::json::object();  // the bridge's section (`bridge:`)
    std::string serverName = "hs.test";
    std::string botLocalpart = "bridge_bot";
    std::string userTemplate = "remote_{id}";  // ghost localparts, with one "{id}"
    std::string bridgeName = "test";           // what !version and !help name
    std::string mediaPublicUrl = "https://bridge.test";  // empty: media links are off
    // login.idle_minutes: remote clients idle this long (on clock()) are reaped; 0: never.
    unsigned loginIdleMinutes = 0;
};

// A reportState call.
struct ReportedState {
    StateSubject subject;
    RemoteStatus status;
};

// A reportDeliveryFailure call.
struct DeliveryFailure {
    RoomId room;
    EventId event;
    Error error;
};

// Media links as the framework would make them, but readable in a test:
// "https://bridge.test/_mxbridge/media/test-<server>-<media id>[/<name>]"; none for a text
// that is not an mxc URI, nor when FakeContextOptions::mediaPublicUrl is empty.
class FakeMediaLinks final : public MediaLinks {
public:
    explicit FakeMediaLinks(std::string publicUrl) : publicUrl_(std::move(publicUrl)) {}
    std::optional<std::string> publicUrl(std::string_view mxc, std::string_view fileName = {}) const override;

private:
    std::string publicUrl_;
};

class FakeBridgeContext final : public BridgeContext {
public:
    explicit FakeBridgeContext(FakeContextOptions options = {});
    ~FakeBridgeContext() override;

    // --- BridgeContext ---
    const ConfigSection& config() const override { return config_; }
    Logger logger(const std::string& component) const override { return Logger(component); }
    Metrics& metrics() override { return metrics_; }
    const std::string& serverName() const override { return options_.serverName; }
    UserId botUserId() const override { return bot_; }
    // Escaped and shortened exactly as the framework does ("Alice" -> "@remote__alice:hs.test").
    UserId ghostUserId(const std::string& ghostId) const override;
    bool isGhost(const UserId& user) const override;
    void queueRemote(RemoteEvent event) override;
    void reportDeliveryFailure(const RoomId& room, const EventId& event, const Error& error) override;
    void reportState(const StateSubject& subject, const RemoteStatus& status) override;
    void tellUser(const UserId& user, const std::string& text) override;
    Intent& bot() override { return intentFor(bot_); }
    Intent& intent(const UserId& user) override { return intentFor(user); }
    KvStore& kv() override { return kv_; }
    LinkStore& links() override { return links_; }
    // Ghosts as MemoryUserStore keeps them; logins shared with remoteClients().
    UserStore& users() override;
    EventMappingStore& eventMappings() override { return mappings_; }
    CommandRegistry& commands() override { return commands_; }
    const MediaLinks& media() const override { return media_; }
    // The framework's own RemoteClients over the context's logins, making clients with the
    // handler given to enableLogins() (none before: acquire() makes nothing); their
    // reports land in reportedStates() as the framework's would.
    RemoteClients& remoteClients() override;
    TimerHandle every(std::chrono::milliseconds interval, std::function<void()> task) override {
        return clock_.every(interval, std::move(task));
    }
    TimerHandle after(std::chrono::milliseconds delay, std::function<void()> task) override {
        return clock_.after(delay, std::move(task));
    }

    // --- what the connector did ---
    std::vector<RemoteEvent> remoteEvents() const;
    // The queued events of one kind (RemoteMessage, RemoteEdit, …), in order.
    template <typename T>
    std::vector<T> remoteEventsOf() const {
        std::vector<T> out;
        for (const RemoteEvent& e : remoteEvents())
            if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
        return out;
    }
    std::vector<DeliveryFailure> deliveryFailures() const;
    // Every tellUser call, in order: (user, text).
    std::vector<std::pair<UserId, std::string>> toldUsers() const;
    // Every reportState call, in order (repeats included: the framework ignores those).
    std::vector<ReportedState> reportedStates() const;
    // The last state reported for the network's own connection (owner empty) or a login.
    std::optional<RemoteStatus> lastState(const std::string& network, const UserId& owner = UserId(),
                                          const std::string& loginId = {}) const;
    // Forgets recorded remote events, failures, states and intent actions (stores and timers
    // stay).
    void clearRecords();

    IntentLog& intentLog() { return intentLog_; }
    ManualClock& clock() { return clock_; }
    RecordingCommandRegistry& commandRegistry() { return commands_; }
    MemoryKvStore& memoryKv() { return kv_; }

    // --- logins (login.h) ---
    // The connector's LoginHandler: from now on remoteClients() makes clients with it. Call
    // before the first remoteClients() use; clients made before are stopped.
    void enableLogins(LoginHandler& handler);
    // What the framework does at start: a client for every stored login, connected.
    size_t startStoredLogins();
    // What a completed login flow does: stores it and (re)starts its client.
    void completeLogin(const Login& login);
    // What !logout does. False when there was nothing to log out.
    bool logout(const LoginKey& key);

private:
    RecordingIntent& intentFor(const UserId& user);
    struct Logins;  // the framework's RemoteClients over in-memory logins

    FakeContextOptions options_;
    ConfigSection config_;
    UserId bot_;
    std::string ghostPrefix_;
    std::string ghostSuffix_;
    Metrics metrics_;
    // Before the intents: their deferred answers live in the clock and name them.
    ManualClock clock_;
    IntentLog intentLog_;
    MemoryKvStore kv_;
    MemoryLinkStore links_;
    MemoryUserStore users_;
    MemoryEventMappingStore mappings_;
    RecordingCommandRegistry commands_;
    FakeMediaLinks media_;

    mutable std::mutex mutex_;
    std::map<UserId, std::unique_ptr<RecordingIntent>> intents_;
    std::vector<RemoteEvent> remoteEvents_;
    std::vector<DeliveryFailure> failures_;
    std::vector<std::pair<UserId, std::string>> told_;
    std::vector<ReportedState> states_;
    // Last: its clients are stopped first, and their final reports still find states_.
    std::unique_ptr<Logins> logins_;
};

}  // namespace mxbridge::testing
