// libFuzzer entry for IRC line parsing and serializing (see irc_fuzz_targets.h).
#include "irc_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::irc::fuzz::fuzzIrcMessage(data, size);
    return 0;
}
