// Runs the mxbridge_format fuzz entry point without libFuzzer (see replay_driver.h).
// Usage: fuzz_replay_format [--iterations N] [--seed S] [corpus-dir]
#include "format_fuzz_targets.h"
#include "replay_driver.h"

int main(int argc, char** argv) {
    const mxbridge::fuzz::ReplayTarget targets[] = {
        {"matrix_html", mxbridge::format::fuzz::fuzzMatrixHtml, "html"},
    };
    return mxbridge::fuzz::runReplay(argc, argv, targets);
}
