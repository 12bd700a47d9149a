// One message of the bridge <-> host wire, framed for a SOCK_SEQPACKET socket: each
// datagram holds exactly one message, so there is no length prefix to get wrong and a peer's
// death is an EOF.
//
// Layout (integers big-endian):
//   "MXP" version(u8)  kind(u8)  id(u32)  type: len(u8) name  body: record
//   value  = 'F' | 'T' | 'I' i64 | 'S' len(u32) bytes | 'L' count(u16) value* | 'R' record
//   record = count(u16) (len(u8) key value)*
// The decoder is strict (no trailing bytes, unique keys, valid names, bounded depth and
// size), so any frame it accepts encodes back to the very same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "mxbridge/purple/value.h"

namespace mxbridge::purple::wire {

// The wire's version. A peer speaking another one is refused at the first frame; hello
// says which each side speaks.
inline constexpr std::uint8_t kVersion = 1;

struct Limits {
    // A datagram larger than this is refused by the reader before it is decoded. Below the
    // default socket send buffer, so a frame of this size always fits one datagram.
    static constexpr std::size_t kMaxFrameBytes = 128 * 1024;
    static constexpr std::size_t kMaxDepth = 8;         // lists and records inside each other
    static constexpr std::size_t kMaxItems = 4096;      // entries of one list or record
};

enum class Kind : std::uint8_t {
    Request = 1,  // asks for something; answered by one Reply or Error with the same id
    Reply = 2,
    Error = 3,    // a request that failed; the body has `code` and `text`
    Event = 4,    // something that happened; id is the sender's event counter
};

struct Message {
    Kind kind = Kind::Request;
    std::uint32_t id = 0;
    std::string type;  // a name (isValidName): "hello", "im_received", ...
    Record body;
    bool operator==(const Message& other) const = default;
};

// A message the encoder refuses to write (bad name, too deep, too large): a bug in the
// sender or an oversized user message, never something to send half of.
class EncodeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string encode(const Message& message);

struct DecodeError {
    enum class Code {
        TooShort,            // fewer bytes than the fixed header
        BadMagic,            // not our wire at all
        UnsupportedVersion,  // our wire, another version
        BadKind,
        BadName,             // a type or key that is not a name
        Truncated,           // a value runs past the end of the frame
        BadTag,
        TooDeep,
        TooLarge,            // the frame, or a list or record with too many entries
        DuplicateKey,
        TrailingBytes,
    };
    Code code;
    std::size_t offset;  // where in the frame it was found
    std::string detail;

    // "<what> at byte <offset>: <detail>", for logs.
    std::string describe() const;
};

class DecodeResult {
public:
    DecodeResult(Message message) : result_(std::move(message)) {}
    DecodeResult(DecodeError error) : result_(std::move(error)) {}
    bool ok() const { return std::holds_alternative<Message>(result_); }
    const Message& message() const { return std::get<Message>(result_); }
    Message& message() { return std::get<Message>(result_); }
    const DecodeError& error() const { return std::get<DecodeError>(result_); }

private:
    std::variant<Message, DecodeError> result_;
};

DecodeResult decode(std::string_view frame);

std::string_view kindName(Kind kind);

}  // namespace mxbridge::purple::wire
