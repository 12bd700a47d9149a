// Runs the XMPP fuzz entry point without libFuzzer (see replay_driver.h).
// Usage: fuzz_replay_xmpp [--iterations N] [--seed S] [corpus-dir]
#include "replay_driver.h"
#include "xmpp_fuzz_targets.h"

int main(int argc, char** argv) {
    const mxbridge::fuzz::ReplayTarget targets[] = {
        {"xmpp_stream", mxbridge::xmpp::fuzz::fuzzXmppStream, "xmpp"},
        {"xmpp_styling", mxbridge::xmpp::fuzz::fuzzXmppStyling, "styling"},
    };
    return mxbridge::fuzz::runReplay(argc, argv, targets);
}
