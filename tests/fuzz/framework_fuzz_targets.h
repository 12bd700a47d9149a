// The framework's fuzz entry points, shared by the libFuzzer binaries (clang) and
// fuzz_replay_framework (any compiler).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxbridge::fuzz {

// TransactionParser never crashes and never changes the body. It refuses with an error and
// no items, or accepts; the verdict (M_NOT_JSON, M_BAD_JSON, accepted) and every accepted
// item (source, routing fields, slice of the body) match an independent reading of the same
// bytes with nlohmann::json. Reusing a parser gives the same outcome as a fresh one.
void fuzzTransaction(const std::uint8_t* data, std::size_t size);

// loadConfig and parseRegistration turn any bytes into a value or a ConfigError that names
// the file for every problem; nothing else escapes. An accepted registration renders to YAML that
// reads back the same.
void fuzzConfig(const std::uint8_t* data, std::size_t size);

}  // namespace mxbridge::fuzz
