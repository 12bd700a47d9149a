// Runs the libpurple wire fuzz entry point without libFuzzer (see replay_driver.h).
// Usage: fuzz_replay_purple [--iterations N] [--seed S] [corpus-dir]
#include "purple_fuzz_targets.h"
#include "replay_driver.h"

int main(int argc, char** argv) {
    const mxbridge::fuzz::ReplayTarget targets[] = {
        {"purple_wire", mxbridge::purple::fuzz::fuzzPurpleWire, "purple"},
    };
    return mxbridge::fuzz::runReplay(argc, argv, targets);
}
