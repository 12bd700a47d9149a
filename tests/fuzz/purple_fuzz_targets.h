// The libpurple bridge's fuzz entry point, shared by the libFuzzer binary (clang) and
// fuzz_replay_purple (any compiler).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxbridge::purple::fuzz {

// The host's frames as the bridge reads them (and the bridge's as the host reads them):
// decoding never crashes and stays within the limits; a frame it accepts encodes back to
// exactly its own bytes and decodes again to the same message; an error's offset lies inside
// the frame; every typed message read from any accepted body either succeeds (and survives
// the wire again) or says which field is wrong.
void fuzzPurpleWire(const std::uint8_t* data, std::size_t size);

}  // namespace mxbridge::purple::fuzz
