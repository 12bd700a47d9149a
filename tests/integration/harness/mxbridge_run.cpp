#include "mxbridge_run.h"

#include "temp_dir.h"

namespace mxbridge::test {

std::unique_ptr<Process> runMxbridge(const std::string& binary, const std::filesystem::path& dir,
                                     const std::string& configYaml, int start, std::chrono::milliseconds timeout) {
    writeFile(dir / "config.yaml", configYaml);
    ProcessOptions options;
    options.argv = {binary, "run", "-c", (dir / "config.yaml").string()};
    options.workDir = dir;
    options.logFile = dir / ("mxbridge-" + std::to_string(start) + ".log");
    options.name = "mxbridge";
    auto bridge = std::make_unique<Process>(std::move(options));
    bridge->waitForLine("bridge is running", timeout);
    return bridge;
}

}  // namespace mxbridge::test
