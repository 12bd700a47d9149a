// UTF-8 as Matrix requires it (strict), for the HTML reader and every bridge's text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mxbridge::format {

// Appends `codepoint` as UTF-8; surrogates and values past U+10FFFF become U+FFFD.
void appendUtf8(std::string& out, char32_t codepoint);

// Length of the UTF-8 sequence starting at `bytes[pos]` if it is a valid one, else 0.
std::size_t validUtf8SequenceLength(std::string_view bytes, std::size_t pos);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view bytes);

}  // namespace mxbridge::format
