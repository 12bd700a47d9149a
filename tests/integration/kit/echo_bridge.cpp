// EchoBridge: writes the config, runs `mxbridge run` with bridge type `echo`.
#include "echo_bridge.h"

#include <sstream>

#include "harness_error.h"
#include "ports.h"

namespace mxbridge::test {

EchoBridge::EchoBridge(EchoSettings settings) : settings_(std::move(settings)), port_(freePort()) {
    HomeserverConfig c = bridgeHomeserverConfig(port_);
    c.userNamespaceRegex = "@echo_.*:hs\\.test";
    c.aliasNamespaceRegex = "#echo_.*:hs\\.test";
    hs_ = std::make_unique<HomeserverDouble>(c);
}

EchoBridge::~EchoBridge() = default;

void EchoBridge::writeConfig() {
    const std::string url = "http://127.0.0.1:" + std::to_string(port_);
    std::ostringstream y;
    y << "homeserver:\n"
      << "  url: " << hs_->url() << "\n"
      << "  server_name: " << kServerName << "\n"
      << "  startup_timeout_seconds: 10\n"
      << "  check_on_startup: " << (settings_.checkOnStartup ? "true" : "false") << "\n"
      << "appservice:\n"
      << "  id: mxbridge\n"
      << "  bind_address: 127.0.0.1\n"
      << "  port: " << port_ << "\n"
      << "  public_url: " << url << "\n"
      << "  registration_file: " << (dir_ / "registration.yaml").string() << "\n"
      << "  as_token: " << kAsToken << "\n"
      << "  hs_token: " << kHsToken << "\n"
      << "  bot_localpart: " << kBotLocalpart << "\n"
      << "  dispatch_workers: 2\n"
      << "database:\n"
      << "  path: " << (dir_ / "data" / "mxbridge.db").string() << "\n"
      << "logging:\n"
      << "  level: info\n"
      << "bridge:\n"
      << "  type: " << settings_.bridgeType << "\n";
    if (!settings_.provisioningSecret.empty()) {
        y << "provisioning:\n"
          << "  enabled: true\n"
          << "  shared_secret: " << settings_.provisioningSecret << "\n";
    }
    writeFile(dir_ / "config.yaml", y.str());
}

void EchoBridge::start(std::chrono::milliseconds timeout) {
    writeConfig();
    process_.reset();
    ProcessOptions options;
    options.argv = {mxbridgeBinary(), "run", "-c", (dir_ / "config.yaml").string()};
    options.workDir = dir_.path();
    options.logFile = dir_ / ("mxbridge-" + std::to_string(++starts_) + ".log");
    options.name = "mxbridge";
    process_ = std::make_unique<Process>(std::move(options));
    process_->waitForLine("bridge is running", timeout);
}

std::optional<int> EchoBridge::stop(std::chrono::milliseconds timeout) {
    if (!process_) return std::nullopt;
    auto code = process_->terminate(timeout);
    drainOutput(*process_);
    return code;
}

std::string EchoBridge::openPortal(const std::string& alias) {
    AsClient client(port_);
    AsResponse answer = client.get("/_matrix/app/v1/rooms/" + percentEncode(alias), bearer());
    if (answer.status != 200)
        throw HarnessError("alias query for " + alias + " answered " + std::to_string(answer.status) + ": " +
                           answer.body);
    auto room = hs_->roomForAlias(alias);
    if (!room) throw HarnessError("the bridge answered the alias query for " + alias + " but created no room");
    return *room;
}

std::vector<nlohmann::json> EchoBridge::eventsFrom(const std::string& roomId, const std::string& sender,
                                                   const std::string& type) const {
    std::vector<nlohmann::json> found;
    for (const auto& event : hs_->timeline(roomId))
        if (event.value("sender", "") == sender && event.value("type", "") == type) found.push_back(event);
    return found;
}

}  // namespace mxbridge::test
