// libFuzzer entry for the Slack Events API envelope and request signatures (see slack_fuzz_targets.h).
#include "slack_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mxbridge::slack::fuzz::fuzzSlackEnvelope(data, size);
    return 0;
}
