// Compatibility fallbacks (XEP-0428): what a bridge that carries the extension drops.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/fallback.h"
#include "parse_helpers.h"

using namespace mxbridge::xmpp;
using mxbridge::xmpp::test::kClientHeader;
using mxbridge::xmpp::test::parseAll;

namespace {
constexpr std::string_view kReply = "urn:xmpp:reply:0";

Element withFallback(const std::string& inner) {
    auto parsed = parseAll(std::string(kClientHeader) +
                           "<message><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>" + inner +
                           "</fallback></message>");
    REQUIRE(parsed.stanzas.size() == 1);
    return parsed.stanzas.front();
}
}  // namespace

TEST_CASE("the XEP-0461 example: the quoted lines go, the answer stays") {
    const std::string body = "> Anna wrote:\n> We should bake a cake\nGreat idea!";
    CHECK(withoutFallback(withFallback("<body start='0' end='38'/>"), kReply, body) == "Great idea!");
}

TEST_CASE("ranges count code points, not bytes") {
    const std::string body = "> Zoë: ça va?\nOui";  // 2 two-byte characters in the quote
    CHECK(withoutFallback(withFallback("<body start='0' end='14'/>"), kReply, body) == "Oui");
}

TEST_CASE("hostile or foreign fallbacks never remove what they do not name") {
    const std::string body = "hello";
    CHECK(withoutFallback(withFallback("<body start='3' end='1'/>"), kReply, body) == "hello");
    CHECK(withoutFallback(withFallback("<body start='0' end='99'/>"), kReply, body) == "hello");
    CHECK(withoutFallback(withFallback("<body start='-1' end='2'/>"), kReply, body) == "hello");
    CHECK(withoutFallback(withFallback("<body start='0' end='2'/>"), "urn:xmpp:other", body) == "hello");
    CHECK(withoutFallback(withFallback("<subject/>"), kReply, body) == "hello");
    // No range at all: the whole body stands in for the extension.
    CHECK(withoutFallback(withFallback(""), kReply, body).empty());
    CHECK(withoutFallback(withFallback("<body/>"), kReply, body).empty());
    // Overlapping ranges cut once.
    CHECK(withoutFallback(withFallback("<body start='0' end='2'/><body start='1' end='3'/>"), kReply, body) == "lo");
}
