// Skipping an integration test whose peer is not installed: CTest reports exit code 77 as
// skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt), so a missing package is not a failure.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::test {

inline constexpr int kSkipExitCode = 77;

// Prints "SKIP: <why>" and exits 77. std::exit, not _Exit: started processes are killed by the
// harness's atexit cleanup.
[[noreturn]] void skipTest(std::string_view why);

// The program's full path if `program` (a name or a path) is executable, else nullopt.
std::optional<std::filesystem::path> findExecutable(const std::string& program);

// The folder with test fixtures (tests/fixtures of the checkout), or MXBRIDGE_FIXTURES_DIR.
std::filesystem::path fixturesDir();

}  // namespace mxbridge::test
