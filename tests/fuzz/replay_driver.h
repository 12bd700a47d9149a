// Runs fuzz entry points without libFuzzer, so builds with any compiler (CI's g++) check the
// same properties: every file of each target's seed corpus, then mutations of them from a
// fixed seed, so a failure reproduces run to run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mxbridge::fuzz {

struct ReplayTarget {
    const char* name;  // also the seed corpus folder: corpus/<name>/
    void (*run)(const std::uint8_t* data, std::size_t size);
    // dict/<dict>.dict: byte strings that reach the interesting branches far sooner than
    // random bytes do, in libFuzzer's -dict format so both kinds of run share them.
    const char* dict;
};

// Usage: <program> [--iterations N] [--seed S] [corpus-dir]. Returns the exit status: 0, or 1
// when a target has no seeds or an unreadable dictionary (a property violation aborts).
int runReplay(int argc, char** argv, std::span<const ReplayTarget> targets);

}  // namespace mxbridge::fuzz
