// TransactionParser: what the ack path reads from a transaction body, and how it refuses one.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "journal/transaction_parser.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using Status = ParseOutcome::Status;

namespace {

ParseOutcome parse(std::string body) {
    TransactionParser parser;
    return parser.parse(body);
}

// Each item's offset/length, applied to the body, must give back exactly the event's JSON.
std::string slice(const std::string& body, const ParsedItem& item) {
    return body.substr(item.offset, item.length);
}

const std::string kMessage =
    R"({"content":{"body":"Hello \"world\" \u00e9","msgtype":"m.text"},"event_id":"$143273582443PhrSn:example.org",)"
    R"("origin_server_ts":1432735824653,"room_id":"!jEsUZKDJdhlrceRyVU:example.org",)"
    R"("sender":"@example:example.org","type":"m.room.message","unsigned":{"age":1234}})";
const std::string kMember =
    R"({"content":{"membership":"join"},"event_id":"$2:example.org","origin_server_ts":2,)"
    R"("room_id":"!other:example.org","sender":"@bob:example.org","state_key":"@bob:example.org",)"
    R"("type":"m.room.member"})";

}  // namespace

TEST_CASE("the spec's example transaction yields its events with their routing fields") {
    std::string body = "{\n  \"events\": [\n    " + kMessage + ",\n    " + kMember + "\n  ]\n}\n";
    TransactionParser parser;
    ParseOutcome out = parser.parse(body);
    REQUIRE(out.status == Status::Ok);
    REQUIRE(out.items.size() == 2);
    const auto& m = out.items[0];
    CHECK(m.source == EventSource::Timeline);
    CHECK(m.fields.type == "m.room.message");
    CHECK(m.fields.eventId == "$143273582443PhrSn:example.org");
    CHECK(m.fields.roomId == "!jEsUZKDJdhlrceRyVU:example.org");
    CHECK(m.fields.sender == "@example:example.org");
    CHECK(m.fields.originServerTs == 1432735824653);
    CHECK_FALSE(m.fields.stateKey.has_value());
    const auto& s = out.items[1];
    CHECK(s.fields.type == "m.room.member");
    CHECK(s.fields.stateKey == std::optional<std::string>("@bob:example.org"));
    CHECK(slice(body, m) == kMessage);
    CHECK(slice(body, s) == kMember);
}

TEST_CASE("an empty events array is a valid transaction with no items") {
    ParseOutcome out = parse(R"({"events":[]})");
    CHECK(out.status == Status::Ok);
    CHECK(out.items.empty());
}

TEST_CASE("ephemeral and to-device items are read under stable and MSC2409 keys") {
    const std::string typing = R"({"type":"m.typing","room_id":"!r:x","content":{"user_ids":["@a:x"]}})";
    const std::string receipt = R"({"type":"m.receipt","room_id":"!r:x","content":{}})";
    const std::string presence = R"({"type":"m.presence","sender":"@a:x","content":{"presence":"online"}})";
    const std::string toDevice = R"({"type":"m.room_key_request","sender":"@a:x","to_user_id":"@b:x","to_device_id":"D","content":{}})";
    const std::string toDevice2 = R"({"type":"m.new_device","sender":"@a:x","content":{}})";
    std::string body = R"({"events":[)" + kMessage + R"(],"ephemeral":[)" + typing +
                       R"(],"de.sorunome.msc2409.ephemeral":[)" + receipt + "," + presence +
                       R"(],"to_device":[)" + toDevice + R"(],"de.sorunome.msc2409.to_device":[)" +
                       toDevice2 + "]}";
    TransactionParser parser;
    ParseOutcome out = parser.parse(body);
    REQUIRE(out.status == Status::Ok);
    REQUIRE(out.items.size() == 6);
    CHECK(out.items[0].source == EventSource::Timeline);
    CHECK(out.items[1].source == EventSource::Ephemeral);
    CHECK(out.items[1].fields.roomId == "!r:x");
    CHECK(out.items[2].source == EventSource::Ephemeral);
    CHECK(out.items[3].source == EventSource::Ephemeral);
    CHECK(out.items[3].fields.roomId.empty());
    CHECK(out.items[4].source == EventSource::ToDevice);
    CHECK(out.items[5].source == EventSource::ToDevice);
    CHECK(slice(body, out.items[1]) == typing);
    CHECK(slice(body, out.items[2]) == receipt);
    CHECK(slice(body, out.items[3]) == presence);
    CHECK(slice(body, out.items[4]) == toDevice);
    CHECK(slice(body, out.items[5]) == toDevice2);
}

TEST_CASE("offsets slice back to each event's exact JSON whatever the whitespace and field order") {
    std::string e1 = R"({ "type" : "m.room.message" , "content" : { "body" : "a,}]" } ,)"
                     R"( "room_id":"!r:x","sender":"@s:x","event_id":"$1" })";
    std::string e2 = R"({"event_id":"$2","sender":"@s:x","room_id":"!r:x","type":"m.x","content":{"n":[1,{"k":[]}]}})";
    std::string body = " \t\r\n{ \"txn_meta\": {\"events\": 1}, \"events\" :\n[ " + e1 + "\n,\t" + e2 +
                       " ] , \"other\": [1, 2] }  \n";
    TransactionParser parser;
    ParseOutcome out = parser.parse(body);
    REQUIRE(out.status == Status::Ok);
    REQUIRE(out.items.size() == 2);
    CHECK(slice(body, out.items[0]) == e1);
    CHECK(slice(body, out.items[1]) == e2);
    CHECK(out.items[0].fields.eventId == "$1");
    CHECK(out.items[1].fields.eventId == "$2");
}

TEST_CASE("escaped strings in routing fields are unescaped") {
    ParseOutcome out = parse(
        R"({"events":[{"type":"m.room.message","event_id":"$a\/b\u0041","room_id":"!r:x","sender":"@s:x","content":{}}]})");
    REQUIRE(out.status == Status::Ok);
    CHECK(out.items[0].fields.eventId == "$a/bA");
}

TEST_CASE("bytes that are not JSON are refused as M_NOT_JSON") {
    CHECK(parse("").status == Status::NotJson);
    CHECK(parse("hello").status == Status::NotJson);
    CHECK(parse("<html></html>").status == Status::NotJson);
    CHECK(parse("{'events': []}").status == Status::NotJson);
}

TEST_CASE("a truncated body is refused as M_NOT_JSON") {
    std::string full = R"({"events":[)" + kMessage + "," + kMember + "]}";
    for (size_t cut : {1ul, 2ul, 10ul, 11ul, 12ul, 40ul, full.size() / 2, full.size() - 2, full.size() - 1}) {
        CAPTURE(cut);
        ParseOutcome out = parse(full.substr(0, cut));
        CHECK(out.status == Status::NotJson);
        CHECK(out.items.empty());
    }
}

TEST_CASE("trailing content after the object is refused as M_NOT_JSON") {
    ParseOutcome out = parse(R"({"events":[]} {"events":[]})");
    CHECK(out.status == Status::NotJson);
    CHECK(parse(R"({"events":[]}x)").status == Status::NotJson);
    CHECK(parse(R"({"events":[]}])").status == Status::NotJson);
    CHECK(parse("{\"events\":[" + kMessage + "]},").status == Status::NotJson);
}

// The on-demand pass skips these fields; the validating pass before it must catch them.
TEST_CASE("malformed JSON inside fields the parser skips is still refused as M_NOT_JSON") {
    // The on-demand parser does not read `content` or unknown keys; a body that is not JSON
    // there must not be journalled and acknowledged (the handler would see an empty object).
    CHECK(parse(R"({"events":[],"extra":[1,,2]})").status == Status::NotJson);
    CHECK(parse(R"({"events":[{"type":"m.x","event_id":"$1","room_id":"!r:x","sender":"@s:x","content":{"body":tru}}]})")
              .status == Status::NotJson);
    CHECK(parse(R"({"events":[{"type":"m.x","event_id":"$1","room_id":"!r:x","sender":"@s:x","content":{"a" "b"}}]})")
              .status == Status::NotJson);
}

TEST_CASE("a body that is JSON but not an object is refused as M_BAD_JSON") {
    CHECK(parse("[]").status == Status::BadJson);
    CHECK(parse(R"("events")").status == Status::BadJson);
    CHECK(parse("42").status == Status::BadJson);
    CHECK(parse("null").status == Status::BadJson);
}

TEST_CASE("an object without an events array is refused as M_BAD_JSON") {
    CHECK(parse("{}").status == Status::BadJson);
    CHECK(parse(R"({"events":{}})").status == Status::BadJson);
    CHECK(parse(R"({"events":"[]"})").status == Status::BadJson);
    CHECK(parse(R"({"events":null})").status == Status::BadJson);
    CHECK(parse(R"({"events":[1]})").status == Status::BadJson);
    CHECK(parse(R"({"events":[],"ephemeral":{}})").status == Status::BadJson);
}

TEST_CASE("a timeline event without event_id, room_id, sender, type or content is M_BAD_JSON") {
    const char* fields[] = {R"("type":"m.room.message")", R"("event_id":"$1")", R"("room_id":"!r:x")",
                            R"("sender":"@s:x")", R"("content":{})"};
    for (int skip = 0; skip < 5; ++skip) {
        std::string event = "{";
        for (int i = 0; i < 5; ++i) {
            if (i == skip) continue;
            if (event.size() > 1) event += ",";
            event += fields[i];
        }
        event += "}";
        CAPTURE(event);
        ParseOutcome out = parse(R"({"events":[)" + event + "]}");
        CHECK(out.status == Status::BadJson);
        CHECK_FALSE(out.error.empty());
        CHECK(out.items.empty());
    }
}

TEST_CASE("routing fields of the wrong type are M_BAD_JSON and the error names the field") {
    ParseOutcome out = parse(R"({"events":[{"type":"m.x","event_id":5,"room_id":"!r:x","sender":"@s:x","content":{}}]})");
    CHECK(out.status == Status::BadJson);
    CHECK(out.error.find("events[0].event_id") != std::string::npos);
    CHECK(parse(R"({"events":[{"type":"m.x","event_id":"$1","room_id":"!r:x","sender":"@s:x","content":{},"origin_server_ts":"x"}]})")
              .status == Status::BadJson);
}

TEST_CASE("invalid UTF-8 is refused as M_NOT_JSON") {
    std::string body = R"({"events":[{"type":"m.x","event_id":"$1","room_id":"!r:x","sender":"@s:x","content":{"body":")";
    body += "\xff\xfe\xc3";
    body += R"("}}]})";
    CHECK(parse(body).status == Status::NotJson);
    std::string overlong = R"({"events":[],"x":")";
    overlong += "\xc0\xaf";
    overlong += R"("})";
    CHECK(parse(overlong).status == Status::NotJson);
}

// Skipped content is depth-limited by the validating pass, so nlohmann::json in
// MatrixEvent::json() never sees it.
TEST_CASE("deeply nested content is refused without exhausting the stack") {
    const size_t depth = 100000;
    std::string content(depth, '[');
    content += std::string(depth, ']');
    std::string body = R"({"events":[{"type":"m.x","event_id":"$1","room_id":"!r:x","sender":"@s:x","content":{"deep":)" +
                       content + "}}]}";
    ParseOutcome out = parse(body);
    CHECK(out.status != Status::Ok);
    CHECK(out.items.empty());
}

TEST_CASE("one parser can be reused for many bodies") {
    TransactionParser parser;
    for (int i = 0; i < 3; ++i) {
        std::string good = R"({"events":[)" + kMessage + "]}";
        CHECK(parser.parse(good).status == Status::Ok);
        std::string bad = "{";
        CHECK(parser.parse(bad).status == Status::NotJson);
    }
}

TEST_CASE("a body with the same item key twice is refused as M_BAD_JSON, not read both ways") {
    // A DOM reader keeps only the last "events"; reading both would hand the bridge events
    // the homeserver's own tooling would say were never sent.
    TransactionParser parser;
    std::string twice = R"({"events":[)" + kMessage + R"(],"events":[]})";
    ParseOutcome out = parser.parse(twice);
    CHECK(out.status == Status::BadJson);
    CHECK(out.error.find("'events' more than once") != std::string::npos);
    CHECK(out.items.empty());
    std::string ephemeralTwice = R"({"events":[],"ephemeral":[],"ephemeral":[]})";
    CHECK(parser.parse(ephemeralTwice).status == Status::BadJson);
    // The stable and the MSC2409 key side by side are two different keys, both read.
    std::string both = R"({"events":[],"ephemeral":[],"de.sorunome.msc2409.ephemeral":[]})";
    CHECK(parser.parse(both).status == Status::Ok);
}

namespace {

std::string timeline(const std::string& extra, const std::string& content = "{}") {
    return R"({"type":"m.room.message","event_id":"$1","room_id":"!r:x","sender":"@s:x","content":)" +
           content + extra + "}";
}

// A body of valid JSON an earlier parser refused: acked, and both its items (the timeline event
// "$1" and one more) read as usual.
void checkAcceptedWithTwoReadableItems(const ParseOutcome& out) {
    CHECK(out.error == "");
    REQUIRE(out.status == Status::Ok);
    REQUIRE(out.items.size() == 2);
    CHECK(out.items[0].unreadable == "");
    CHECK(out.items[1].unreadable == "");
    CHECK(out.items[0].fields.eventId == "$1");
}

}  // namespace

// Issue 9, item 1: RFC 8259 sets no limit on numbers and room versions 1-5 accept any, while a
// refused transaction is retried forever and stalls every room of the bridge.
TEST_CASE("a transaction with integers past 2^64 or 1e400 in event content is accepted and the event is readable") {
    const std::string thirty(30, '7');
    const std::string twoHundred = "-" + std::string(200, '9');
    for (const std::string& number : {std::string("18446744073709551616"), thirty, twoHundred,
                                      std::string("-9223372036854775809"), std::string("1e400"),
                                      std::string("-1.5E+400"), std::string("1e-400")}) {
        CAPTURE(number);
        std::string body = R"({"events":[)" + timeline("", R"({"body":"hi","n":)" + number + R"(,"list":[)" +
                           number + "," + number + "]}") +
                           R"(],"ephemeral":[{"type":"m.receipt","room_id":"!r:x","content":{"$1":{"m.read":{"@s:x":{"ts":)" +
                           number + "}}}}}]}";
        ParseOutcome out = parse(body);
        checkAcceptedWithTwoReadableItems(out);
    }
}

TEST_CASE("malformed numbers are still refused as M_NOT_JSON, also beside a number past 2^64") {
    for (const char* number : {"01", "1.", "-", "1e", "+1", ".5", "1e+", "--1", "1-2", "0x10", "1e400x", "Infinity", "NaN"}) {
        CAPTURE(number);
        CHECK(parse(R"({"events":[],"big":18446744073709551616,"bad":)" + std::string(number) + "}").status ==
              Status::NotJson);
        CHECK(parse(R"({"events":[)" + timeline("", R"({"n":)" + std::string(number) + "}") + "]}").status ==
              Status::NotJson);
    }
    CHECK(parse(R"({"events":[],"x":[18446744073709551616,,1]})").status == Status::NotJson);
    CHECK(parse(R"({"events":[],"x":[18446744073709551616 1]})").status == Status::NotJson);
    CHECK(parse(R"({"events":[],"x":"18446744073709551616)").status == Status::NotJson);
    CHECK(parse(R"({"events":[]} 1e400)").status == Status::NotJson);
}

TEST_CASE("a number past 2^64 inside a string is text and needs no special reading") {
    ParseOutcome out = parse(R"({"events":[)" + timeline("", R"({"body":"1e400 \" 18446744073709551616"})") + "]}");
    REQUIRE(out.status == Status::Ok);
    CHECK(out.items[0].unreadable == "");
}

// Issue 9, item 2: what the spec forbids in one event skips that event, never its transaction.
TEST_CASE("an event whose content is not an object is accepted and marked unreadable, its neighbours not") {
    for (const char* content : {R"("text")", "42", "null", "[]", "[{}]", "true", "18446744073709551616"}) {
        CAPTURE(content);
        std::string good = R"({"type":"m.room.message","event_id":"$0","room_id":"!r:x","sender":"@s:x","content":{}})";
        ParseOutcome out = parse(R"({"events":[)" + good + "," + timeline("", content) + "," + good + "]}");
        REQUIRE(out.status == Status::Ok);
        REQUIRE(out.items.size() == 3);
        CHECK(out.items[0].unreadable == "");
        CHECK(out.items[1].unreadable == "its content is not an object");
        CHECK(out.items[1].fields.eventId == "$1");
        CHECK(out.items[2].unreadable == "");
    }
}

TEST_CASE("a timeline event whose unsigned is not an object is accepted and marked unreadable") {
    for (const char* value : {R"("x")", "1", "null", "[]"}) {
        CAPTURE(value);
        ParseOutcome out = parse(R"({"events":[)" + timeline(std::string(R"(,"unsigned":)") + value) + "]}");
        REQUIRE(out.status == Status::Ok);
        CHECK(out.items[0].unreadable == "its unsigned is not an object");
    }
    ParseOutcome fine = parse(R"({"events":[)" + timeline(R"(,"unsigned":{"age":1e400})") + "]}");
    REQUIRE(fine.status == Status::Ok);
    CHECK(fine.items[0].unreadable == "");
}

TEST_CASE("ephemeral and to-device items whose content is missing or not an object are accepted and marked unreadable") {
    std::string body =
        R"({"events":[],"ephemeral":[{"type":"m.typing","room_id":"!r:x","content":["@a:x"]},)"
        R"({"type":"m.receipt","room_id":"!r:x","content":"$1"},{"type":"m.presence","sender":"@a:x"},)"
        R"({"type":"m.typing","room_id":"!r:x","content":{"user_ids":[]}}],)"
        R"("to_device":[{"type":"m.x","sender":"@a:x","content":null}]})";
    ParseOutcome out = parse(body);
    REQUIRE(out.status == Status::Ok);
    REQUIRE(out.items.size() == 5);
    CHECK(out.items[0].unreadable == "its content is not an object");
    CHECK(out.items[1].unreadable == "its content is not an object");
    CHECK(out.items[2].unreadable == "it has no content");
    CHECK(out.items[3].unreadable == "");
    CHECK(out.items[4].unreadable == "its content is not an object");
}

TEST_CASE("an origin_server_ts no int64 holds marks only that event unreadable") {
    for (const char* ts : {"9223372036854775808", "18446744073709551616", "1e400", "1.5", "-9223372036854775809"}) {
        CAPTURE(ts);
        ParseOutcome out = parse(R"({"events":[)" + timeline(std::string(R"(,"origin_server_ts":)") + ts) + "," +
                                 timeline(R"(,"origin_server_ts":-9223372036854775808)") + "]}");
        REQUIRE(out.status == Status::Ok);
        CHECK(out.items[0].unreadable == "its origin_server_ts is not a 64-bit integer");
        CHECK(out.items[1].unreadable == "");
        CHECK(out.items[1].fields.originServerTs == std::numeric_limits<int64_t>::min());
    }
}

// Issue 9, item 1 again: RFC 8259's grammar allows an escape of half a UTF-16 pair, and
// Synapse re-emits one a client sent; simdjson refuses it like a malformed escape.
TEST_CASE("a transaction with lone surrogate escapes in content, keys and routing fields is accepted and its events readable") {
    for (const std::string lone : {R"(\ud800)", R"(\udc00)", R"(\ud800x)", R"(\uDBFF\u0041)", R"(\ud800\ud800)",
                                   R"(\udfff\ud800)"}) {
        CAPTURE(lone);
        std::string event = R"({"type":"m.room.message","event_id":"$1","room_id":"!r:x","sender":"@s:x",)"
                            R"("content":{"body":"a)" + lone + R"(b",")" + lone + R"(":[")" + lone + R"("]},)"
                            R"(")" + lone + R"(":1,"state_key":")" + lone + R"("})";
        std::string body = R"({"events":[)" + event + R"(],")" + lone +
                           R"(":[],"ephemeral":[{"type":"m.typing","room_id":"!r:x","content":{"user_ids":[")" + lone +
                           R"("]}}]})";
        ParseOutcome out = parse(body);
        checkAcceptedWithTwoReadableItems(out);
        CHECK(slice(body, out.items[0]) == event);  // the body journalled is the one that came
        CHECK(out.items[1].fields.roomId == "!r:x");
        // A routing field reads U+FFFD where the half pair was, as hooks read the content.
        CHECK(out.items[0].fields.stateKey->find("\xEF\xBF\xBD") != std::string::npos);
    }
    ParseOutcome pair = parse(R"({"events":[)" + timeline("", R"({"body":"\ud83d\ude00 \u00e9"})") + "]}");
    CHECK(pair.status == Status::Ok);
}

TEST_CASE("escapes that are not JSON, control characters and invalid UTF-8 are still M_NOT_JSON beside a lone surrogate") {
    for (const std::string& bad : {std::string(R"(\uZZZZ)"), std::string(R"(\u12)"), std::string(R"(\x)"),
                                  std::string("\x01"), std::string("\xff"), std::string("\xed\xa0\x80")}) {
        CAPTURE(bad);
        CHECK(parse(R"({"events":[],"lone":"\ud800","bad":")" + bad + R"("})").status == Status::NotJson);
        CHECK(parse(R"({"events":[],"bad":")" + bad + R"(","lone":"\ud800"})").status == Status::NotJson);
        CHECK(parse(R"({"events":[)" + timeline("", R"({"b":"\udc00)" + bad + R"("})") + "]}").status ==
              Status::NotJson);
    }
    CHECK(parse(R"({"events":[],"x":"\ud800)").status == Status::NotJson);
    CHECK(parse(R"({"events":[],"x":["\ud800",,1]})").status == Status::NotJson);
    CHECK(parse(R"({"events":[],"x":"\ud800"} "\ud800")").status == Status::NotJson);
}

TEST_CASE("a lone surrogate and a number past 2^64 in one body are both accepted, whichever comes first") {
    for (const std::string& content : {std::string(R"({"s":"\ud800","n":18446744073709551616})"),
                                      std::string(R"({"n":1e400,"s":"\udc00"})")}) {
        CAPTURE(content);
        ParseOutcome out = parse(R"({"events":[)" + timeline(R"(,"origin_server_ts":5)", content) + "]}");
        REQUIRE(out.status == Status::Ok);
        CHECK(out.items[0].unreadable == "");
        CHECK(out.items[0].fields.originServerTs == 5);
    }
    CHECK(parse(R"({"events":[],"s":"\ud800","n":18446744073709551616,"bad":01})").status == Status::NotJson);
    CHECK(parse(R"({"events":[],"n":1e400,"s":"\ud800","bad":"\uZZZZ"})").status == Status::NotJson);
}
