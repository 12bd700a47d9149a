// The serializer: whatever a text or attribute holds, it stays text or attribute when read
// back, and nothing XML 1.0 forbids is ever written.
#include <doctest/doctest.h>

#include <stdexcept>

#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/serializer.h"
#include "parse_helpers.h"

using namespace mxbridge::xmpp;
using namespace mxbridge::xmpp::test;

namespace {

// `stanza` serialized in a jabber:client stream and read back.
Element roundTrip(const Element& stanza) {
    std::string stream = std::string(kClientHeader) + serialize(stanza, ns::kClient);
    auto result = parseAll(stream);
    INFO(stream);
    REQUIRE_FALSE(result.error.has_value());
    REQUIRE(result.stanzas.size() == 1);
    return result.stanzas[0];
}

}  // namespace

TEST_CASE("markup characters are escaped in text and attributes") {
    CHECK(escapeText("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d");
    CHECK(escapeText("]]>") == "]]&gt;");
    CHECK(escapeAttribute("it's \"quoted\" <x>&") == "it&apos;s &quot;quoted&quot; &lt;x&gt;&amp;");
    CHECK(escapeAttribute("a\tb\nc\rd") == "a&#9;b&#10;c&#13;d");
    CHECK(escapeText("line\r\nnext") == "line&#13;\nnext");
}

TEST_CASE("characters XML 1.0 forbids and broken UTF-8 become U+FFFD, never bytes on the wire") {
    CHECK(toXmlChars(std::string("a\0b", 3)) == "a\xEF\xBF\xBD" "b");
    CHECK(toXmlChars("\x01\x08\x0B\x0C\x1F\x7F") ==
          "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\x7F");
    CHECK(toXmlChars("\xEF\xBF\xBE|\xEF\xBF\xBF") == "\xEF\xBF\xBD|\xEF\xBF\xBD");  // U+FFFE, U+FFFF
    CHECK(toXmlChars("\xC3\x28") == "\xEF\xBF\xBD(");                             // cut sequence
    CHECK(toXmlChars("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    CHECK(toXmlChars("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
    CHECK(toXmlChars("h\xC3\xA9llo \xF0\x9F\x98\x80\t\n") == "h\xC3\xA9llo \xF0\x9F\x98\x80\t\n");
}

TEST_CASE("hostile text and attribute values read back exactly as they were, as data") {
    const std::string hostile[] = {
        "</body></message><message to='evil@x'><body>pwned",
        "' to='evil@example.com",
        "\" onload=\"x",
        "<![CDATA[ ]]> ]]> &amp; &#0; &lt;",
        "<!DOCTYPE x [<!ENTITY a 'b'>]>&a;",
        "<?xml version='1.0'?><!-- c -->",
        "tab\tnewline\ncarriage\rreturn\r\n spaces  ",
        "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88 emoji",
    };
    for (const auto& value : hostile) {
        Element message("message", std::string(ns::kClient));
        message.setAttr("id", value);
        message.addChild("body", std::string(ns::kClient)).addText(value);
        Element back = roundTrip(message);
        CHECK(back == message);
        CHECK(back.elements().size() == 1);
        CHECK(back.attributes().size() == 1);
    }
}

TEST_CASE("forbidden characters are replaced, and the stream still parses") {
    Element message("message", std::string(ns::kClient));
    message.setAttr("id", std::string("a\0b\x01", 4));
    message.addChild("body", std::string(ns::kClient)).addText(std::string("x\0y\x1B[31m\xFF", 9));
    Element back = roundTrip(message);
    CHECK(back.attr("id") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    CHECK(back.childText("body", ns::kClient) == "x\xEF\xBF\xBDy\xEF\xBF\xBD[31m\xEF\xBF\xBD");
}

TEST_CASE("namespaces are declared where they change, and undeclared back to none") {
    Element message("message", std::string(ns::kComponentAccept));
    message.addChild("body", std::string(ns::kComponentAccept)).addText("hi");
    message.addChild("ping", std::string(ns::kPing));
    Element& bare = message.addChild("x", "");
    bare.addChild("y", "");
    CHECK(serialize(message, ns::kComponentAccept) ==
          "<message><body>hi</body><ping xmlns='urn:xmpp:ping'/><x xmlns=''><y/></x></message>");
    CHECK(serialize(message) ==
          "<message xmlns='jabber:component:accept'><body>hi</body><ping xmlns='urn:xmpp:ping'/>"
          "<x xmlns=''><y/></x></message>");
}

TEST_CASE("namespaced attributes get a prefix and read back in their namespace") {
    Element message("message", std::string(ns::kClient));
    message.setAttr("lang", "en", std::string(ns::kXml));
    message.setAttr("marker", "1", "urn:example:attrs");
    std::string xml = serialize(message, ns::kClient);
    CHECK(xml.find("xml:lang='en'") != std::string::npos);
    Element back = roundTrip(message);
    CHECK(back.attr("lang", ns::kXml) == "en");
    CHECK(back.attr("marker", "urn:example:attrs") == "1");
    CHECK(back == message);
}

TEST_CASE("element and attribute names that are not XML names are refused, not written") {
    CHECK(isValidXmlName("message"));
    CHECK(isValidXmlName("x-y.z_1"));
    CHECK_FALSE(isValidXmlName(""));
    CHECK_FALSE(isValidXmlName("1abc"));
    CHECK_FALSE(isValidXmlName("a b"));
    CHECK_FALSE(isValidXmlName("a:b"));
    CHECK_FALSE(isValidXmlName("a>"));
    CHECK_FALSE(isValidXmlName("a\xFF"));
    Element bad("body onload", std::string(ns::kClient));
    CHECK_THROWS_AS(serialize(bad), std::invalid_argument);
    Element badAttr("body", std::string(ns::kClient));
    badAttr.setAttr("a='1' b", "x");
    CHECK_THROWS_AS(serialize(badAttr), std::invalid_argument);
}

TEST_CASE("the stream header opens a stream our parser reads, with its attributes escaped") {
    std::string header = openStreamTag(ns::kComponentAccept,
                                       {{.name = "to", .value = "matrix.localhost' evil='1", .ns = ""}});
    StreamParser parser;
    REQUIRE(parser.feed(header));
    auto event = parser.next();
    REQUIRE(event);
    CHECK(event->kind == StreamEvent::Kind::Opened);
    CHECK(event->header.contentNs == ns::kComponentAccept);
    CHECK(event->header.to == "matrix.localhost' evil='1");
    REQUIRE(parser.feed(kCloseStreamTag));
    CHECK(parser.next()->kind == StreamEvent::Kind::Closed);
}
