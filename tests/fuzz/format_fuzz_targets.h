// The mxbridge_format fuzz entry point, shared by the libFuzzer binary (clang) and
// fuzz_replay_format (any compiler).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxbridge::format::fuzz {

// readHtml nests every begin with its end within the depth limit; sanitizeHtml writes only
// allowed tags and attributes with safe links, keeps valid UTF-8 valid, stays within a
// constant factor of the input and gives the same result when run on its own output;
// mentions, pills and reply-fallback stripping accept any bytes; a parsed Matrix link
// written as matrix.to reads back as the same link.
void fuzzMatrixHtml(const std::uint8_t* data, std::size_t size);

}  // namespace mxbridge::format::fuzz
