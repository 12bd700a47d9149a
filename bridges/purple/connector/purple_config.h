// The `bridge:` section of `type: purple`: where the host program is, where hosts keep their
// libpurple folders, and how often a host must answer a ping.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "mxbridge/config_section.h"

namespace mxbridge::purple {

struct PurpleBridgeConfig {
    std::string hostProgram;              // path of mxbridge-purple-host
    std::string dataDir;                  // hosts' libpurple folders go under it
    std::vector<std::string> pluginDirs;  // extra protocol plugin folders
    std::chrono::seconds pingInterval{15};
    std::chrono::seconds pingTimeout{10};  // a host that answers no ping this long is restarted
    std::size_t accountsPerHost = 50;      // a plugin crash takes down at most this many accounts
};

// Throws ConfigError naming the key and line for an unknown key or a bad value.
// `defaultHostProgram`: used when `host_program` is not set.
PurpleBridgeConfig parsePurpleConfig(const ConfigSection& section, const std::string& defaultHostProgram);

// mxbridge-purple-host beside the running executable (how both are installed), else the
// bare name for a PATH lookup.
std::string hostProgramBesideExecutable();

}  // namespace mxbridge::purple
