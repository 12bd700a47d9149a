// libFuzzer entry for IRC formatting, HTML conversion and line splitting.
#include "irc_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::irc::fuzz::fuzzIrcFormatting(data, size);
    return 0;
}
