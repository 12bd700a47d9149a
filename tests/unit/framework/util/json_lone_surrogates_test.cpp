// Replacing the lone surrogate escapes simdjson and nlohmann::json refuse (issue 9, item 1).
#include <doctest/doctest.h>

#include <string>

#include "util/json_lone_surrogates.h"

using namespace mxbridge::detail;

TEST_CASE("each lone surrogate escape becomes \\ufffd in place, in keys and values, and nothing else changes") {
    auto replaced = withLoneSurrogatesReplaced(
        R"({"\ud800":"a\udc00b","c":["\ud800x","\uDBFF\u0041","\ud800\ud800\udc00","\udfff\ud800","\"\ud800"]})");
    REQUIRE(replaced);
    CHECK(*replaced ==
          R"({"\ufffd":"a\ufffdb","c":["\ufffdx","\ufffd\u0041","\ufffd\ud800\udc00","\ufffd\ufffd","\"\ufffd"]})");
    // At the very end of the text, as in a truncated body.
    CHECK(withLoneSurrogatesReplaced(R"(["\ud800)") == std::string(R"(["\ufffd)"));
}

TEST_CASE("pairs, other escapes and text that only looks like an escape are left as they are") {
    for (const std::string json : {R"(["\ud83d\ude00","\uDBFF\uDFFF","\u00e9\ufffd\uffff"])",
                                   R"(["\\ud800","a\\\\udc00","\\\ud83d\ude00"])", R"(["\uZZZZ","\ud8","\u"])",
                                   R"(["plain text", 1, {"k": null}])", ""}) {
        CAPTURE(json);
        CHECK_FALSE(withLoneSurrogatesReplaced(json).has_value());
    }
}
