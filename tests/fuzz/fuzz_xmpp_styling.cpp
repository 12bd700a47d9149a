// libFuzzer entry for XMPP message styling to and from Matrix HTML (see xmpp_fuzz_targets.h).
#include "xmpp_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::xmpp::fuzz::fuzzXmppStyling(data, size);
    return 0;
}
