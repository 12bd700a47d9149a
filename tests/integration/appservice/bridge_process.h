// The real `mxbridge` binary with the probe plug-in, run as a homeserver would meet it: its own
// folder, config and database, a free port, and the probe's records read back from SQLite.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "homeserver_double.h"
#include "as_client.h"
#include "process.h"
#include "temp_dir.h"

namespace mxbridge::test {

// Absolute paths of what the test runs, compiled in by CMake ($<TARGET_FILE:...>).
std::string mxbridgeBinary();
std::string probePlugin();

// Must agree with the double's registration (bridgeHomeserverConfig below).
inline constexpr const char* kServerName = "hs.test";
inline constexpr const char* kAsToken = "as_token_for_tests";
inline constexpr const char* kHsToken = "hs_token_for_tests";
inline constexpr const char* kBotLocalpart = "bridgebot";

struct BridgeSettings {
    std::string homeserverUrl;
    std::string asToken = kAsToken;
    std::string hsToken = kHsToken;
    bool allowQueryToken = false;
    std::size_t maxBodyBytes = 0;  ///< 0: the default
    int startupTimeoutSeconds = 10;
    bool checkOnStartup = true;
    /// Extra lines for the probe's `bridge:` section, e.g. "slow_ms: 20".
    std::vector<std::string> probeOptions;
    std::uint16_t port = 0;  ///< 0: a free port, kept across restarts
    int queryTimeoutSeconds = 0;  ///< appservice.query_timeout_seconds; 0: the default
    bool metricsEnabled = true;
    std::uint16_t metricsPort = 0;  ///< metrics.port; 0: served on the appservice listener
    /// The open-file limit (RLIMIT_NOFILE) the bridge starts under; unset: inherited.
    struct FileLimit {
        int soft;
        int hard;
    };
    std::optional<FileLimit> openFileLimit;
    std::string databasePath;  ///< empty: data/mxbridge.db in the bridge's own folder
    std::string provisioningSecret;  ///< set: provisioning enabled with this shared secret
    std::string bridgeType;  ///< bridge.type; empty: the probe plug-in
    std::string secretKey;   ///< database.secret_key; empty: none
    std::string logLevel = "info";  ///< logging.level
};

// A double set up as the bridge's homeserver: hs.test, the probe's namespaces, fast retries.
HomeserverConfig bridgeHomeserverConfig(std::uint16_t bridgePort);

class BridgeProcess {
public:
    explicit BridgeProcess(BridgeSettings settings);
    ~BridgeProcess();
    BridgeProcess(const BridgeProcess&) = delete;
    BridgeProcess& operator=(const BridgeProcess&) = delete;

    std::uint16_t port() const { return settings_.port; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(settings_.port); }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path configPath() const { return dir_ / "config.yaml"; }
    std::filesystem::path dbPath() const {
        return settings_.databasePath.empty() ? dir_ / "data" / "mxbridge.db"
                                              : std::filesystem::path(settings_.databasePath);
    }
    BridgeSettings& settings() { return settings_; }

    /// Writes the config and starts `mxbridge run`.
    void start();
    /// start() and wait for "bridge is running".
    void startRunning(std::chrono::milliseconds timeout = 15s);
    void waitRunning(std::chrono::milliseconds timeout = 15s);
    /// SIGTERM; returns the exit code (nullopt if it had to be killed).
    std::optional<int> stop(std::chrono::milliseconds timeout = 20s);
    std::optional<int> waitExit(std::chrono::milliseconds timeout = 20s);
    Process& process() { return *process_; }
    bool running() const { return process_ && process_->running(); }
    /// Every output line since the last start, joined with '\n'.
    std::string output() const;
    std::string lastLines() const { return process_ ? process_->lastLines(40) : std::string(); }

    // --- What the probe recorded (read-only SQLite; WAL lets us read while it runs) ---
    std::optional<std::string> kv(const std::string& key) const;
    int handledCount(const std::string& eventId) const;
    std::vector<std::string> handledLog(const std::string& roomId) const;

private:
    void writeConfig();

    BridgeSettings settings_;
    TempDir dir_{"mxbridge-it"};
    std::unique_ptr<Process> process_;
};

// --- Requests as a homeserver sends them ----------------------------------------------------

AsHeaders bearer(const std::string& token = kHsToken);
/// A ClientEvent a transaction may carry.
nlohmann::json timelineEvent(const std::string& eventId, const std::string& roomId,
                             const std::string& sender, const std::string& body = "hello");
/// PUT /_matrix/app/v1/transactions/{txnId} with the hs_token.
AsResponse putTransaction(AsClient& client, const std::string& txnId, const std::string& body,
                            const AsHeaders& headers = bearer());
std::string transactionPath(const std::string& txnId);

/// Waits until the process's output is closed, so lines() holds everything it wrote: waitExit()
/// can return before the harness's reader thread has taken the last lines from the pipe.
void drainOutput(Process& process, std::chrono::milliseconds timeout = 5s);

/// Polls `predicate` every 10 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 10s);

/// The errcode of a Matrix error body, or "" when it is not one.
std::string errcodeOf(const AsResponse& response);
/// Problems with an appservice answer to `operationId`, checked against the spec.
std::vector<std::string> responseProblems(const std::string& operationId, const AsResponse& response);

}  // namespace mxbridge::test

namespace mxbridge::test {

// A homeserver double and a bridge pointed at each other; the bridge is not started yet.
struct BridgedHomeserver {
    explicit BridgedHomeserver(const std::function<void(HomeserverConfig&)>& tweakHs = {},
                               const std::function<void(BridgeSettings&)>& tweakBridge = {});

    std::uint16_t bridgePort;
    std::unique_ptr<HomeserverDouble> hs;
    std::unique_ptr<BridgeProcess> bridge;
};

}  // namespace mxbridge::test
