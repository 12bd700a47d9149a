// libFuzzer entry for the XMPP stream parser, serializer and JIDs (see xmpp_fuzz_targets.h).
#include "xmpp_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::xmpp::fuzz::fuzzXmppStream(data, size);
    return 0;
}
