// BridgeProcess: writes the config, runs `mxbridge run`, reads the probe's records.
#include "bridge_process.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <sstream>
#include <thread>

#include "harness_error.h"
#include "ports.h"

namespace mxbridge::test {

std::string mxbridgeBinary() { return MXBRIDGE_CLI_PATH; }
std::string probePlugin() { return MXBRIDGE_PROBE_PLUGIN_PATH; }

HomeserverConfig bridgeHomeserverConfig(std::uint16_t bridgePort) {
    HomeserverConfig c;
    c.serverName = kServerName;  // example.org would be refused as the sample's placeholder
    c.asToken = kAsToken;
    c.hsToken = kHsToken;
    c.senderLocalpart = kBotLocalpart;
    c.appserviceUrl = "http://127.0.0.1:" + std::to_string(bridgePort);
    c.userNamespaceRegex = "@probe_.*:hs\\.test";
    c.aliasNamespaceRegex = "#probe_.*:hs\\.test";
    // Synapse's 2 s first back-off would make every retry test slow.
    c.retryInitial = 50ms;
    c.retryMax = 400ms;
    c.appserviceTimeout = 3000ms;
    return c;
}

BridgeProcess::BridgeProcess(BridgeSettings settings) : settings_(std::move(settings)) {
    if (settings_.port == 0) settings_.port = freePort();
}

BridgeProcess::~BridgeProcess() = default;

void BridgeProcess::writeConfig() {
    std::ostringstream y;
    y << "homeserver:\n"
      << "  url: " << settings_.homeserverUrl << "\n"
      << "  server_name: " << kServerName << "\n"
      << "  startup_timeout_seconds: " << settings_.startupTimeoutSeconds << "\n"
      << "  check_on_startup: " << (settings_.checkOnStartup ? "true" : "false") << "\n"
      << "appservice:\n"
      << "  id: mxbridge\n"
      << "  bind_address: 127.0.0.1\n"
      << "  port: " << settings_.port << "\n"
      << "  public_url: " << url() << "\n"
      << "  registration_file: " << (dir_ / "registration.yaml").string() << "\n"
      << "  as_token: " << settings_.asToken << "\n"
      << "  hs_token: " << settings_.hsToken << "\n"
      << "  bot_localpart: " << kBotLocalpart << "\n"
      << "  allow_query_token: " << (settings_.allowQueryToken ? "true" : "false") << "\n";
    if (settings_.maxBodyBytes) y << "  max_body_bytes: " << settings_.maxBodyBytes << "\n";
    if (settings_.queryTimeoutSeconds) y << "  query_timeout_seconds: " << settings_.queryTimeoutSeconds << "\n";
    y << "  dispatch_workers: 2\n"
      << "database:\n"
      << "  path: " << dbPath().string() << "\n";
    if (!settings_.secretKey.empty()) y << "  secret_key: " << settings_.secretKey << "\n";
    y << "logging:\n"
      << "  level: " << settings_.logLevel << "\n"
      << "metrics:\n"
      << "  enabled: " << (settings_.metricsEnabled ? "true" : "false") << "\n";
    if (settings_.metricsPort) y << "  port: " << settings_.metricsPort << "\n";
    if (!settings_.provisioningSecret.empty())
        y << "provisioning:\n  enabled: true\n  shared_secret: " << settings_.provisioningSecret << "\n";
    y << "bridge:\n"
      << "  type: " << (settings_.bridgeType.empty() ? probePlugin() : settings_.bridgeType) << "\n";
    for (const auto& line : settings_.probeOptions) y << "  " << line << "\n";
    writeFile(configPath(), y.str());
}

void BridgeProcess::start() {
    writeConfig();
    process_.reset();
    static int starts = 0;
    ProcessOptions options;
    options.argv = {mxbridgeBinary(), "run", "-c", configPath().string()};
    if (auto limit = settings_.openFileLimit) {
        // The shell sets the limit (soft first: it may not exceed the hard one) and becomes
        // the bridge (exec), so signals still reach it.
        options.argv.insert(options.argv.begin(),
                            {"/bin/sh", "-c",
                             "ulimit -S -n " + std::to_string(limit->soft) + " && ulimit -H -n " +
                                 std::to_string(limit->hard) + " && exec \"$0\" \"$@\""});
    }
    options.workDir = dir_.path();
    options.logFile = dir_ / ("mxbridge-" + std::to_string(++starts) + ".log");
    options.name = "mxbridge";
    process_ = std::make_unique<Process>(std::move(options));
}

void BridgeProcess::startRunning(std::chrono::milliseconds timeout) {
    start();
    waitRunning(timeout);
}

void BridgeProcess::waitRunning(std::chrono::milliseconds timeout) {
    process_->waitForLine("bridge is running", timeout);
}

std::optional<int> BridgeProcess::stop(std::chrono::milliseconds timeout) {
    if (!process_) return std::nullopt;
    auto code = process_->terminate(timeout);
    drainOutput(*process_);
    return code;
}

std::optional<int> BridgeProcess::waitExit(std::chrono::milliseconds timeout) {
    auto code = process_->waitExit(timeout);
    if (code) drainOutput(*process_);
    return code;
}

void drainOutput(Process& process, std::chrono::milliseconds timeout) {
    try {
        process.waitForLine("(?!)", timeout);  // matches nothing: returns by throwing at close
    } catch (const HarnessError&) {
    }
}

std::string BridgeProcess::output() const {
    std::string all;
    if (!process_) return all;
    for (const auto& line : process_->lines()) all += line + "\n";
    return all;
}

std::optional<std::string> BridgeProcess::kv(const std::string& key) const {
    if (!std::filesystem::exists(dbPath())) return std::nullopt;
    // Busy while the bridge checkpoints: retry briefly rather than report "absent".
    for (int attempt = 0;; ++attempt) {
        try {
            SQLite::Database db(dbPath().string(), SQLite::OPEN_READONLY, 2000);
            SQLite::Statement q(db, "SELECT value FROM bridge_kv WHERE key = ?");
            q.bind(1, key);
            if (!q.executeStep()) return std::nullopt;
            return q.getColumn(0).getString();
        } catch (const SQLite::Exception& e) {
            if (attempt >= 20) throw HarnessError("reading " + key + " from " + dbPath().string() + ": " + e.what());
            std::this_thread::sleep_for(25ms);
        }
    }
}

int BridgeProcess::handledCount(const std::string& eventId) const {
    auto value = kv("count:" + eventId);
    return value ? std::stoi(*value) : 0;
}

std::vector<std::string> BridgeProcess::handledLog(const std::string& roomId) const {
    std::vector<std::string> ids;
    std::istringstream in(kv("log:" + roomId).value_or(""));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ids.push_back(line);
    return ids;
}

AsHeaders bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

nlohmann::json timelineEvent(const std::string& eventId, const std::string& roomId,
                             const std::string& sender, const std::string& body) {
    return {{"event_id", eventId},
            {"room_id", roomId},
            {"sender", sender},
            {"type", "m.room.message"},
            {"origin_server_ts", 1700000000000},
            {"content", {{"msgtype", "m.text"}, {"body", body}}}};
}

std::string transactionPath(const std::string& txnId) {
    return "/_matrix/app/v1/transactions/" + percentEncode(txnId);
}

AsResponse putTransaction(AsClient& client, const std::string& txnId, const std::string& body,
                            const AsHeaders& headers) {
    return client.put(transactionPath(txnId), body, headers);
}

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (predicate()) return true;
        if (std::chrono::steady_clock::now() > deadline) return predicate();
        std::this_thread::sleep_for(10ms);
    }
}

std::string errcodeOf(const AsResponse& response) {
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("errcode") || !body["errcode"].is_string()) return "";
    return body["errcode"].get<std::string>();
}

std::vector<std::string> responseProblems(const std::string& operationId, const AsResponse& response) {
    const Operation* op = SpecCatalog::shared().operationById(operationId);
    if (!op) return {"the spec has no operation " + operationId};
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_discarded()) return {"the answer is not JSON: " + response.body};
    return SpecCatalog::shared().validateResponse(*op, response.status, body);
}

}  // namespace mxbridge::test

namespace mxbridge::test {

BridgedHomeserver::BridgedHomeserver(const std::function<void(HomeserverConfig&)>& tweakHs,
                                     const std::function<void(BridgeSettings&)>& tweakBridge)
    : bridgePort(freePort()) {
    HomeserverConfig hsConfig = bridgeHomeserverConfig(bridgePort);
    if (tweakHs) tweakHs(hsConfig);
    hs = std::make_unique<HomeserverDouble>(hsConfig);
    BridgeSettings settings;
    settings.homeserverUrl = hs->url();
    settings.port = bridgePort;
    if (tweakBridge) tweakBridge(settings);
    bridge = std::make_unique<BridgeProcess>(settings);
}

}  // namespace mxbridge::test
