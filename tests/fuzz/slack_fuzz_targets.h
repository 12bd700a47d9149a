// The Slack fuzz entry points, shared by the libFuzzer binary (clang) and fuzz_replay_slack
// (any compiler), so CI without clang still checks every property over a corpus.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxbridge::slack::fuzz {

// The Events API envelope parser never throws and returns either a reasoned error or an
// envelope whose ids are safe store keys and which survives being written back and re-read
// unchanged; the signature over the same bytes is accepted, and refused once a byte changes;
// message text escaped for Slack contains no markup and reads back as typed.
void fuzzSlackEnvelope(const std::uint8_t* data, std::size_t size);

}  // namespace mxbridge::slack::fuzz
