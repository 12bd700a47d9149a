#include "fuzz_check.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace mxbridge::fuzz {

namespace {
std::string_view currentTarget;
std::string_view currentInput;
}  // namespace

void beginInput(std::string_view target, std::string_view input) {
    currentTarget = target;
    currentInput = input;
}

void fail(const char* what, const char* file, int line) {
    // libFuzzer writes its own crash-<hash> artifact too; this copy serves the replay drivers.
    std::string path = "fuzz-failure-" + std::string(currentTarget) + ".bin";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(currentInput.data(), 1, currentInput.size(), f);
        std::fclose(f);
    }
    std::fprintf(stderr, "fuzz property violated in %.*s (%s:%d): %s\ninput saved to %s\n",
                 static_cast<int>(currentTarget.size()), currentTarget.data(), file, line, what,
                 path.c_str());
    std::abort();
}

}  // namespace mxbridge::fuzz
