// The real `mxbridge` running the built-in echo bridge against a homeserver double: its own
// folder, config and database, a free port kept across restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bridge_process.h"

namespace mxbridge::test {

inline constexpr const char* kEchoGhost = "@echo_echo:hs.test";
inline constexpr const char* kBot = "@bridgebot:hs.test";

struct EchoSettings {
    bool checkOnStartup = true;
    /// Empty: provisioning disabled.
    std::string provisioningSecret;
    /// `bridge: type:`, the built-in echo or the path of a plug-in built from examples/echo.
    std::string bridgeType = "echo";
};

class EchoBridge {
public:
    explicit EchoBridge(EchoSettings settings = {});
    ~EchoBridge();

    HomeserverDouble& hs() { return *hs_; }
    std::uint16_t port() const { return port_; }
    std::filesystem::path dir() const { return dir_.path(); }

    /// Writes the config, starts `mxbridge run` and waits for "bridge is running".
    void start(std::chrono::milliseconds timeout = 20s);
    /// SIGTERM; the exit code, or nullopt if it had to be killed.
    std::optional<int> stop(std::chrono::milliseconds timeout = 20s);
    std::string lastLines() const { return process_ ? process_->lastLines(40) : std::string(); }

    /// Asks the bridge about `alias` as the homeserver does when a user joins it; returns the
    /// room the bridge created for it.
    std::string openPortal(const std::string& alias);

    /// Events of `type` sent by `sender` in the room's timeline, oldest first.
    std::vector<nlohmann::json> eventsFrom(const std::string& roomId, const std::string& sender,
                                           const std::string& type = "m.room.message") const;

private:
    void writeConfig();

    EchoSettings settings_;
    std::uint16_t port_;
    std::unique_ptr<HomeserverDouble> hs_;
    TempDir dir_{"mxbridge-kit"};
    std::unique_ptr<Process> process_;
    int starts_ = 0;
};

}  // namespace mxbridge::test
