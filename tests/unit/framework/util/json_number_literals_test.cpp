// Rewriting the number literals simdjson and nlohmann::json cannot hold (issue 9, item 1).
#include <doctest/doctest.h>

#include <string>

#include "util/json_number_literals.h"

using namespace mxbridge::detail;

TEST_CASE("every well-formed number is zeroed in place and nothing else changes") {
    CHECK(withNumbersZeroed(R"({"a":18446744073709551616,"b":[1e400,-2.5E-3],"c":0})") ==
          R"({"a":0                   ,"b":[0    ,0      ],"c":0})");
    // Inside strings, escaped quotes included, digits are text.
    CHECK(withNumbersZeroed(R"({"a\"1":"x\"12","b":"\\",  "c" : 12 })") ==
          R"({"a\"1":"x\"12","b":"\\",  "c" : 0  })");
}

TEST_CASE("malformed numbers are left for the validator to refuse") {
    for (const std::string bad : {"01", "1.", "-", "1e", "+1", "1e+", "--1", "1-2", "1.e5", "-.5"}) {
        CAPTURE(bad);
        std::string json = "[" + bad + "]";
        CHECK(withNumbersZeroed(json) == json);
    }
    // Glued to other text a number is not a token of its own.
    CHECK(withNumbersZeroed("[1e400x]") == "[1e400x]");
    CHECK(withNumbersZeroed("[x1e400]") == "[x1e400]");
    CHECK(withNumbersZeroed(R"(["a"1])") == R"(["a"1])");
}

TEST_CASE("only numbers no int64, uint64 or double holds are quoted, with their exact text") {
    CHECK_FALSE(withOutOfRangeNumbersQuoted(
        R"({"a":18446744073709551615,"b":-9223372036854775808,"c":1.7976931348623157e308,"d":"1e400"})"));
    auto quoted = withOutOfRangeNumbersQuoted(
        R"({"a":18446744073709551616,"b":[-9223372036854775809, 1e400],"c":5,"d":"1e400"})");
    REQUIRE(quoted);
    CHECK(*quoted ==
          R"({"a":"18446744073709551616","b":["-9223372036854775809", "1e400"],"c":5,"d":"1e400"})");
    std::string digits(200, '3');
    CHECK(withOutOfRangeNumbersQuoted("[" + digits + "]") == "[\"" + digits + "\"]");
}
