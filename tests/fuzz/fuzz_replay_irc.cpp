// Runs the IRC fuzz entry points without libFuzzer (see replay_driver.h).
// Usage: fuzz_replay_irc [--iterations N] [--seed S] [corpus-dir]
#include "irc_fuzz_targets.h"
#include "replay_driver.h"

int main(int argc, char** argv) {
    const mxbridge::fuzz::ReplayTarget targets[] = {
        {"irc_message", mxbridge::irc::fuzz::fuzzIrcMessage, "irc"},
        {"irc_formatting", mxbridge::irc::fuzz::fuzzIrcFormatting, "irc"},
    };
    return mxbridge::fuzz::runReplay(argc, argv, targets);
}
