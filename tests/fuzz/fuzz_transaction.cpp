// libFuzzer entry for the appservice transaction parser (see framework_fuzz_targets.h).
#include "framework_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::fuzz::fuzzTransaction(data, size);
    return 0;
}
