// The wire's framing: what is written reads back the same, and every kind of bad input is
// refused with an error that says what and where, never a crash or a partial message.
#include <doctest/doctest.h>

#include <string>

#include "mxbridge/purple/frame.h"

using namespace mxbridge::purple::wire;

namespace {

Message sample() {
    Record nested;
    nested.set("port", 5222).set("tls", true);
    List list{Value("a"), Value(std::int64_t{-7}), Value(false), Value(Record().set("x", "y"))};
    Record body;
    body.set("account", "login-1").set("text", std::string("bytes\0with nul", 14));
    body.set("settings", nested).set("list", list).set("big", std::int64_t{INT64_MIN});
    return Message{.kind = Kind::Event, .id = 0xfedcba98u, .type = "im_received", .body = body};
}

DecodeError::Code errorOf(std::string_view frame) {
    DecodeResult result = decode(frame);
    REQUIRE_FALSE(result.ok());
    return result.error().code;
}

// A list nested `depth` times around an empty list.
Value nestedLists(int depth) {
    Value v{List{}};
    for (int i = 1; i < depth; ++i) v = Value(List{v});
    return v;
}

}  // namespace

TEST_CASE("a message reads back as written, and its bytes are the only encoding") {
    Message message = sample();
    std::string bytes = encode(message);
    DecodeResult result = decode(bytes);
    REQUIRE(result.ok());
    CHECK(result.message() == message);
    CHECK(encode(result.message()) == bytes);
    CHECK(result.message().body.string("text").size() == 14);
    CHECK(result.message().body.integer("big") == INT64_MIN);
}

TEST_CASE("the header carries magic, version, kind and id") {
    std::string bytes = encode(Message{.kind = Kind::Request, .id = 258, .type = "ping", .body = {}});
    CHECK(bytes.substr(0, 3) == "MXP");
    CHECK(static_cast<unsigned char>(bytes[3]) == kVersion);
    CHECK(bytes[4] == 1);
    CHECK(bytes.substr(5, 4) == std::string("\0\0\x01\x02", 4));
    CHECK(bytes.size() == 9 + 1 + 4 + 2);  // header, type, empty record
}

TEST_CASE("another version or another protocol is refused at the header") {
    std::string bytes = encode(sample());
    std::string other = bytes;
    other[3] = static_cast<char>(kVersion + 1);
    CHECK(errorOf(other) == DecodeError::Code::UnsupportedVersion);
    CHECK(decode(other).error().describe().find("this side speaks 1") != std::string::npos);
    CHECK(errorOf("GET / HTTP/1.1\r\n") == DecodeError::Code::BadMagic);
    CHECK(errorOf("MXP") == DecodeError::Code::TooShort);
    other = bytes;
    other[4] = 9;
    CHECK(errorOf(other) == DecodeError::Code::BadKind);
}

TEST_CASE("every cut of a valid frame is refused, never read as a shorter message") {
    std::string bytes = encode(sample());
    for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decode(bytes.substr(0, n)).ok());
    CHECK(errorOf(bytes + "x") == DecodeError::Code::TrailingBytes);
}

TEST_CASE("a string length past the end is truncation, not a huge allocation") {
    std::string bytes = encode(Message{.kind = Kind::Event, .id = 1, .type = "t", .body = Record().set("s", "abc")});
    // The length's four bytes sit right before "abc".
    std::size_t at = bytes.size() - 3 - 4;
    bytes.replace(at, 4, std::string("\xff\xff\xff\xff", 4));
    DecodeResult result = decode(bytes);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == DecodeError::Code::Truncated);
    CHECK(result.error().offset == bytes.size() - 3);
}

TEST_CASE("names are checked on both sides") {
    CHECK_THROWS_AS(encode(Message{.kind = Kind::Event, .id = 1, .type = "Bad Type", .body = {}}), EncodeError);
    CHECK_THROWS_AS(encode(Message{.kind = Kind::Event, .id = 1, .type = "t", .body = Record().set("9lives", 1)}),
                    EncodeError);
    std::string bytes = encode(Message{.kind = Kind::Event, .id = 1, .type = "t", .body = Record().set("key", 1)});
    bytes[bytes.find("key")] = 'K';
    CHECK(errorOf(bytes) == DecodeError::Code::BadName);
    CHECK(isValidName("account_connected"));
    CHECK_FALSE(isValidName(""));
    CHECK_FALSE(isValidName(std::string(33, 'a')));
}

TEST_CASE("a key twice in one record is refused") {
    std::string bytes = encode(Message{.kind = Kind::Event, .id = 1, .type = "t",
                                       .body = Record().set("aa", 1).set("ab", 2)});
    bytes[bytes.rfind("ab") + 1] = 'a';
    CHECK(errorOf(bytes) == DecodeError::Code::DuplicateKey);
}

TEST_CASE("nesting and size are bounded both ways") {
    Message deep{.kind = Kind::Event, .id = 1, .type = "t", .body = Record().set("v", nestedLists(Limits::kMaxDepth))};
    std::string bytes = encode(deep);
    CHECK(decode(bytes).ok());
    Message deeper = deep;
    deeper.body.set("v", nestedLists(Limits::kMaxDepth + 1));
    CHECK_THROWS_AS(encode(deeper), EncodeError);
    // The same nesting written by hand: the decoder refuses it too.
    std::size_t at = bytes.find('L');
    bytes.insert(at, std::string("L\x00\x01", 3));
    CHECK(errorOf(bytes) == DecodeError::Code::TooDeep);

    Message huge{.kind = Kind::Event, .id = 1, .type = "t",
                 .body = Record().set("s", std::string(Limits::kMaxFrameBytes, 'x'))};
    CHECK_THROWS_AS(encode(huge), EncodeError);
    CHECK(errorOf(std::string(Limits::kMaxFrameBytes + 1, 'M')) == DecodeError::Code::TooLarge);

    List many(Limits::kMaxItems + 1, Value(true));
    CHECK_THROWS_AS(encode(Message{.kind = Kind::Event, .id = 1, .type = "t", .body = Record().set("l", many)}),
                    EncodeError);
}

TEST_CASE("unknown tags and booleans other than F and T are refused") {
    std::string bytes = encode(Message{.kind = Kind::Event, .id = 1, .type = "t", .body = Record().set("b", true)});
    bytes.back() = 'X';
    DecodeResult result = decode(bytes);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == DecodeError::Code::BadTag);
    CHECK(result.error().offset == bytes.size() - 1);
}
