// libFuzzer entry for the libpurple bridge's wire decoder (see purple_fuzz_targets.h).
#include "purple_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::purple::fuzz::fuzzPurpleWire(data, size);
    return 0;
}
