// Property checks shared by every fuzz target. A violated property saves the input, says
// which check failed and aborts, which libFuzzer and the replay drivers both report.
#pragma once

#include <string_view>

namespace mxbridge::fuzz {

// Names the target and input that a later failed check reports and saves.
void beginInput(std::string_view target, std::string_view input);
[[noreturn]] void fail(const char* what, const char* file, int line);

}  // namespace mxbridge::fuzz

#define MXBRIDGE_FUZZ_CHECK(cond)                                       \
    do {                                                                \
        if (!(cond)) ::mxbridge::fuzz::fail(#cond, __FILE__, __LINE__); \
    } while (false)
