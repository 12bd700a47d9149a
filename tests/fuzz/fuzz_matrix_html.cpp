// libFuzzer entry for the Matrix HTML reader and writer, mentions and reply fallbacks.
#include "format_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::format::fuzz::fuzzMatrixHtml(data, size);
    return 0;
}
