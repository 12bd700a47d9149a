// Runs the Slack fuzz entry point without libFuzzer (see replay_driver.h).
// Usage: fuzz_replay_slack [--iterations N] [--seed S] [corpus-dir]
#include "replay_driver.h"
#include "slack_fuzz_targets.h"

int main(int argc, char** argv) {
    const mxbridge::fuzz::ReplayTarget targets[] = {
        {"slack_envelope", mxbridge::slack::fuzz::fuzzSlackEnvelope, "json"},
    };
    return mxbridge::fuzz::runReplay(argc, argv, targets);
}
