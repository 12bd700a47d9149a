// The XMPP fuzz entry points, shared by the libFuzzer binary (clang) and fuzz_replay_xmpp
// (any compiler), so CI without clang still checks every property over a corpus.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxbridge::xmpp::fuzz {

// The stream parser reads any bytes, split anywhere, to the same stanzas;
// stanzas it hands over survive serialize-and-parse unchanged and stay within the limits;
// escaped text, attributes and JIDs built from the bytes can never break out or be invalid.
void fuzzXmppStream(const std::uint8_t* data, std::size_t size);

// Message styling (XEP-0393) read into Matrix HTML and written from it: never crashes, stays
// linear, what it writes is clean HTML (cleaning changes nothing) and valid UTF-8 from valid
// UTF-8, and Matrix HTML written as styling is valid UTF-8 too.
void fuzzXmppStyling(const std::uint8_t* data, std::size_t size);

}  // namespace mxbridge::xmpp::fuzz
