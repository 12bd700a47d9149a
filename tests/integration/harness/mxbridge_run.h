// `mxbridge run` as the bridge tests start it: a config written to its folder, the output in a
// log file per start (so a restart's log does not overwrite the crash before it).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "process.h"

namespace mxbridge::test {

// Writes `configYaml` to <dir>/config.yaml and runs `binary` (the tests' MXBRIDGE_CLI_PATH)
// with it in `dir`, its output in <dir>/mxbridge-<start>.log; returns once it logged "bridge
// is running", or throws like Process::waitForLine with its last lines.
std::unique_ptr<Process> runMxbridge(const std::string& binary, const std::filesystem::path& dir,
                                     const std::string& configYaml, int start,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace mxbridge::test
