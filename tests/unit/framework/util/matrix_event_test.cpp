// MatrixEvent: what a hook reads of an event's JSON.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "mxbridge/events.h"

using namespace mxbridge;

TEST_CASE("numbers past int64, uint64 and double reach hooks as strings of their exact text") {
    const std::string digits(200, '9');
    std::string raw = R"({"type":"m.room.message","event_id":"$1","room_id":"!r:x","sender":"@s:x",)"
                      R"("content":{"body":"hi 1e400","n":18446744073709551616,"f":1e400,"d":)" +
                      digits + R"(,"u":18446744073709551615,"i":-3,"x":0.5}})";
    MatrixEvent event = MatrixEvent::fromJson(EventSource::Timeline, raw);
    const auto& content = event.content();
    CHECK(content["body"] == "hi 1e400");
    CHECK(content["n"] == "18446744073709551616");
    CHECK(content["f"] == "1e400");
    CHECK(content["d"] == digits);
    CHECK(content["u"].get<uint64_t>() == std::numeric_limits<uint64_t>::max());
    CHECK(content["i"] == -3);
    CHECK(content["x"] == 0.5);
    CHECK(event.json()["type"] == "m.room.message");
    CHECK(event.rawJson() == raw);  // the journal and raw handlers still see every byte
}

TEST_CASE("a lone surrogate escape reaches hooks as U+FFFD and the rest of the event as sent") {
    std::string raw = R"({"type":"m.room.message","event_id":"$1","room_id":"!r:x","sender":"@s:x",)"
                      R"("content":{"body":"a\ud800b \ud83d\ude00","\udc00":1,"n":1e400,"msgtype":"m.text"}})";
    MatrixEvent event = MatrixEvent::fromJson(EventSource::Timeline, raw);
    const auto& content = event.content();
    CHECK(content["body"] == "a\xEF\xBF\xBD" "b \xF0\x9F\x98\x80");
    CHECK(content["\xEF\xBF\xBD"] == 1);
    CHECK(content["n"] == "1e400");
    CHECK(content["msgtype"] == "m.text");
    CHECK(event.rawJson() == raw);
}
