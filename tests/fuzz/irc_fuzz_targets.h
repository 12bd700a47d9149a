// The IRC fuzz entry points, shared by the libFuzzer binaries (clang) and fuzz_replay_irc
// (any compiler), so CI without clang still runs every property over a corpus.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxbridge::irc::fuzz {

// parse -> serialize -> parse keeps the command and param count and is stable after one
// round; nothing serialized contains CR, LF or NUL; builders, LineReader, CAP, ISUPPORT,
// CTCP and server-time accept any bytes.
void fuzzIrcMessage(const std::uint8_t* data, std::size_t size);

// ircToHtml/htmlToIrc/splitForIrc accept any bytes, keep valid UTF-8 valid, stay within a
// constant factor of the input, and split lines fit their budget and keep all visible text.
void fuzzIrcFormatting(const std::uint8_t* data, std::size_t size);

}  // namespace mxbridge::irc::fuzz
