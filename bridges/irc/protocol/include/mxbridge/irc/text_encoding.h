// Bytes from IRC are usually UTF-8, but older clients still send latin-1 or CP1252; Matrix
// needs UTF-8. Everything we send is UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace mxbridge::irc {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view bytes);

// Valid UTF-8 passes through unchanged. Anything else is read as CP1252 (latin-1 with
// printable characters in 0x80-0x9F, which is what "latin-1" clients really send), one
// byte per character. The whole line switches, not just the bad bytes: a latin-1 line
// can contain byte pairs that happen to be valid UTF-8, and mixed lines are rare.
std::string decodeIrcText(std::string_view bytes);

// Replaces each invalid sequence with U+FFFD; for text whose origin is not IRC.
std::string sanitizeUtf8(std::string_view bytes);

void appendUtf8(std::string& out, char32_t codepoint);

// Length of the UTF-8 sequence starting at `bytes[pos]` if it is a valid one, else 0.
std::size_t validUtf8SequenceLength(std::string_view bytes, std::size_t pos);

}  // namespace mxbridge::irc
