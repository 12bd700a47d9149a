// Where the Matrix spec data lives for tests, and the skip-if-absent helper.
#pragma once

#include <optional>
#include <string>

namespace mxbridge::test {

/// The spec checkout (the folder holding `data/api`): env MXBRIDGE_SPEC_DIR, else the
/// compiled-in MXBRIDGE_SPEC_DIR_DEFAULT; std::nullopt when neither holds `data/api`.
std::optional<std::string> specDir();

/// Exits the process with 77 (CTest: skipped) and a message on stderr when the spec is absent.
void requireSpecOrSkip(const char* testName);

}  // namespace mxbridge::test

/// Call first in main() (or at the top of a test) of anything that needs the spec data.
#define MXBRIDGE_REQUIRE_SPEC() ::mxbridge::test::requireSpecOrSkip(__FILE__)
