// What a hostile or broken peer may send: every case ends in a stream error with the right
// condition, none crashes, and memory stays bounded by the stanza limit.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/namespaces.h"
#include "parse_helpers.h"

using namespace mxbridge::xmpp;
using namespace mxbridge::xmpp::test;
using C = StreamErrorCondition;

namespace {

std::string stream(std::string_view body) { return std::string(kClientHeader) + std::string(body); }

// The condition for `input` read whole, byte by byte and in odd pieces: always the same.
C conditionEverySplit(const std::string& input, StreamParserLimits limits = {}) {
    auto whole = parseAll(input, 0, limits);
    REQUIRE_MESSAGE(whole.error.has_value(), input.substr(0, 200));
    for (std::size_t chunk : {1, 5, 4096}) {
        auto split = parseAll(input, chunk, limits);
        REQUIRE(split.error.has_value());
        CHECK(split.error->condition == whole.error->condition);
    }
    return whole.error->condition;
}

}  // namespace

TEST_CASE("DOCTYPE, entity declarations and billion laughs are refused before any expansion") {
    const std::string laughs =
        "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
        "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
        "<!ENTITY lol9 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        "<message><body>&lol9;</body></message>";
    CHECK(conditionEverySplit(laughs) == C::RestrictedXml);
    CHECK(conditionEverySplit("<!DOCTYPE stream:stream>") == C::RestrictedXml);
    auto r = parseAll(laughs);
    CHECK(r.error->text.find("DOCTYPE") != std::string::npos);
    CHECK(r.stanzas.empty());
}

TEST_CASE("external entities are never fetched") {
    const std::string external =
        "<!DOCTYPE s [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        "<message><body>&xxe;</body></message>";
    CHECK(conditionEverySplit(external) == C::RestrictedXml);
    auto r = parseAll(external);
    CHECK(r.stanzas.empty());
}

TEST_CASE("references to undeclared entities are restricted XML") {
    CHECK(conditionEverySplit(stream("<message><body>&nbsp;</body></message>")) == C::RestrictedXml);
    CHECK(conditionEverySplit(stream("<message to='&foo;'/>")) == C::RestrictedXml);
}

TEST_CASE("comments and processing instructions are refused anywhere in the stream") {
    CHECK(conditionEverySplit(stream("<!-- hello -->")) == C::RestrictedXml);
    CHECK(conditionEverySplit(stream("<message><!-- hi --><body/></message>")) == C::RestrictedXml);
    CHECK(conditionEverySplit(stream("<message><?pi data?></message>")) == C::RestrictedXml);
    CHECK(conditionEverySplit("<?pi data?>" + stream("")) == C::RestrictedXml);
    CHECK(conditionEverySplit("<!-- before -->" + stream("")) == C::RestrictedXml);
    auto r = parseAll(stream("<presence/><!-- x --><presence/>"));
    CHECK(r.stanzas.size() == 1);
    CHECK(r.error->text.find("comment") != std::string::npos);
}

TEST_CASE("only UTF-8: other encodings, invalid bytes and NUL are refused") {
    CHECK(conditionEverySplit("<?xml version='1.0' encoding='ISO-8859-1'?>" + stream("")) ==
          C::UnsupportedEncoding);
    CHECK(conditionEverySplit("<?xml version='1.0' encoding='UTF-16'?>" + stream("")) ==
          C::UnsupportedEncoding);
    CHECK_FALSE(parseAll("<?xml version='1.0' encoding='utf-8'?>" + stream("<presence/>")).error);
    CHECK(conditionEverySplit(stream("<message><body>\xC3\x28</body></message>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message><body>\xED\xA0\x80</body></message>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message><body>\xFF\xFE</body></message>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream(std::string("<message><body>a\0b</body></message>", 33))) ==
          C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message><body>&#0;</body></message>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message><body>&#x1;</body></message>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message><body>\x01</body></message>")) == C::NotWellFormed);
    // UTF-16 with its byte order mark.
    CHECK(conditionEverySplit(std::string("\xFF\xFE<\0s\0", 6) + stream("")) != C::RestrictedXml);
}

TEST_CASE("broken markup is not well-formed") {
    CHECK(conditionEverySplit(stream("<message><body></message>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message a='1' a='2'/>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<message a=1/>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("</stream:stream><presence/>")) == C::NotWellFormed);
    CHECK(conditionEverySplit(stream("<x:message/>")) == C::BadNamespacePrefix);
}

TEST_CASE("a stanza over the size limit is a policy violation, whatever makes it big") {
    StreamParserLimits limits{.maxStanzaBytes = 4096, .maxDepth = 32};
    std::string big(5000, 'a');
    CHECK(conditionEverySplit(stream("<message><body>" + big + "</body></message>"), limits) ==
          C::PolicyViolation);
    CHECK(conditionEverySplit(stream("<message id='" + big + "'/>"), limits) == C::PolicyViolation);
    // A start tag never closed: expat buffers it, and the limit still applies.
    CHECK(conditionEverySplit(stream("<message id='" + big), limits) == C::PolicyViolation);
    CHECK(conditionEverySplit(stream("<message " + big), limits) == C::PolicyViolation);
    CHECK(conditionEverySplit(stream("<" + big), limits) == C::PolicyViolation);
    // Whitespace forever is bounded too only as long as it arrives in pieces: it is dropped.
    CHECK_FALSE(parseAll(stream(std::string(20000, ' ') + "<presence/>"), 0, limits).error);
    // Just under the limit passes; many stanzas together may exceed it.
    std::string fits(3000, 'b');
    auto many = parseAll(stream(std::string(10, ' ') + [&] {
                             std::string s;
                             for (int i = 0; i < 20; ++i) s += "<message><body>" + fits + "</body></message>";
                             return s;
                         }()),
                         0, limits);
    CHECK_FALSE(many.error);
    CHECK(many.stanzas.size() == 20);
    auto r = parseAll(stream("<message><body>" + big + "</body></message>"), 0, limits);
    CHECK(r.error->text.find("4096") != std::string::npos);
}

TEST_CASE("the default limit is 512 KiB and a 10 MB stanza stops the stream early") {
    CHECK(StreamParserLimits{}.maxStanzaBytes == 512 * 1024);
    StreamParser parser;
    REQUIRE(parser.feed(stream("<message><body>")));
    std::string mib(1024 * 1024, 'x');
    int fed = 0;
    while (fed < 10 && parser.feed(mib)) ++fed;
    CHECK(fed == 0);  // the first MiB already crosses the limit
    REQUIRE(parser.error());
    CHECK(parser.error()->condition == C::PolicyViolation);
    // After the error nothing more is read (so nothing more is held).
    auto before = parser.bytesRead();
    CHECK_FALSE(parser.feed(mib));
    CHECK(parser.bytesRead() == before);
}

TEST_CASE("elements nested past the depth limit are a policy violation") {
    auto nested = [](int depth) {
        std::string s;
        for (int i = 0; i < depth; ++i) s += "<a>";
        for (int i = 0; i < depth; ++i) s += "</a>";
        return s;
    };
    CHECK_FALSE(parseAll(stream(nested(32))).error);
    CHECK(conditionEverySplit(stream(nested(33))) == C::PolicyViolation);
    CHECK(conditionEverySplit(stream(nested(100000))) == C::PolicyViolation);
    StreamParserLimits shallow{.maxStanzaBytes = 512 * 1024, .maxDepth = 3};
    CHECK_FALSE(parseAll(stream(nested(3)), 0, shallow).error);
    CHECK(conditionEverySplit(stream(nested(4)), shallow) == C::PolicyViolation);
}

TEST_CASE("many attributes or a huge attribute count against the same limit") {
    std::string attrs;
    for (int i = 0; i < 60000; ++i) attrs += " a" + std::to_string(i) + "='x'";
    // Not byte by byte: expat 2.5 scans an unfinished tag again on every feed, so one byte at
    // a time costs the square of its length (the connection reads in 16 KiB pieces).
    for (std::size_t chunk : {0, 4096}) {
        auto r = parseAll(stream("<message" + attrs + "/>"), chunk);
        REQUIRE(r.error);
        CHECK(r.error->condition == C::PolicyViolation);
    }
}
