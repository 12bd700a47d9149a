// Locating the Matrix spec data (see spec_dir.h).
#include "spec_dir.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace mxbridge::test {

namespace {
bool holdsSpec(const std::string& dir) {
    std::error_code ec;
    return !dir.empty() && std::filesystem::is_directory(dir + "/data/api", ec);
}
}  // namespace

std::optional<std::string> specDir() {
    if (const char* env = std::getenv("MXBRIDGE_SPEC_DIR"); env && *env) {
        if (holdsSpec(env)) return std::string(env);
        return std::nullopt;
    }
#ifdef MXBRIDGE_SPEC_DIR_DEFAULT
    if (holdsSpec(MXBRIDGE_SPEC_DIR_DEFAULT)) return std::string(MXBRIDGE_SPEC_DIR_DEFAULT);
#endif
    return std::nullopt;
}

void requireSpecOrSkip(const char* testName) {
    if (specDir()) return;
    std::fprintf(stderr,
                 "%s: SKIPPED: Matrix spec data not found; set MXBRIDGE_SPEC_DIR to a "
                 "matrix-spec checkout (the folder holding data/api)\n",
                 testName);
    std::exit(77);
}

}  // namespace mxbridge::test
