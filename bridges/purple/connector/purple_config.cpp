#include "purple_config.h"

#include <unistd.h>

#include <filesystem>

namespace mxbridge::purple {

PurpleBridgeConfig parsePurpleConfig(const ConfigSection& section, const std::string& defaultHostProgram) {
    section.rejectUnknownKeys(
        {"type", "host_program", "data_dir", "plugin_dirs", "ping_interval_seconds", "ping_timeout_seconds",
         "accounts_per_host"});
    PurpleBridgeConfig config;
    config.hostProgram = section.getString("host_program", defaultHostProgram);
    config.dataDir = section.getString("data_dir", "purple-hosts");
    config.pluginDirs = section.getStringList("plugin_dirs");
    config.pingInterval = std::chrono::seconds(section.getInt("ping_interval_seconds", 15, 1, 3600));
    config.pingTimeout = std::chrono::seconds(section.getInt("ping_timeout_seconds", 10, 1, 600));
    config.accountsPerHost = static_cast<std::size_t>(section.getInt("accounts_per_host", 50, 1, 100000));
    if (config.hostProgram.find('/') != std::string::npos && ::access(config.hostProgram.c_str(), X_OK) != 0)
        section.fail("host_program", "'" + config.hostProgram + "' is not an executable file");
    return config;
}

std::string hostProgramBesideExecutable() {
    std::error_code error;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
        std::filesystem::path beside = self.parent_path() / "mxbridge-purple-host";
        if (::access(beside.c_str(), X_OK) == 0) return beside.string();
    }
    return "mxbridge-purple-host";
}

}  // namespace mxbridge::purple
