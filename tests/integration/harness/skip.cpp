#include "skip.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace mxbridge::test {

void skipTest(std::string_view why) {
    std::cout << "SKIP: " << why << std::endl;
    std::exit(kSkipExitCode);
}

std::optional<std::filesystem::path> findExecutable(const std::string& program) {
    if (program.find('/') != std::string::npos) {
        if (::access(program.c_str(), X_OK) == 0) {
            return std::filesystem::path(program);
        }
        return std::nullopt;
    }
    const char* path = std::getenv("PATH");
    // Debian installs daemons in sbin, which is not in every user's PATH.
    std::stringstream dirs(std::string(path != nullptr ? path : "/usr/bin:/bin") +
                           ":/usr/sbin:/sbin:/usr/local/sbin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty()) {
            continue;
        }
        std::filesystem::path candidate = std::filesystem::path(dir) / program;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

std::filesystem::path fixturesDir() {
    if (const char* dir = std::getenv("MXBRIDGE_FIXTURES_DIR"); dir != nullptr && *dir != 0) {
        return dir;
    }
    return MXBRIDGE_TEST_FIXTURES_DIR;
}

}  // namespace mxbridge::test
