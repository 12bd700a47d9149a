// Runs the framework's fuzz entry points without libFuzzer (see replay_driver.h).
// Usage: fuzz_replay_framework [--iterations N] [--seed S] [corpus-dir]
#include "framework_fuzz_targets.h"
#include "replay_driver.h"

int main(int argc, char** argv) {
    const mxbridge::fuzz::ReplayTarget targets[] = {
        {"transaction", mxbridge::fuzz::fuzzTransaction, "json"},
        {"config", mxbridge::fuzz::fuzzConfig, "yaml"},
    };
    return mxbridge::fuzz::runReplay(argc, argv, targets);
}
