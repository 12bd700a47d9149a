// The stream parser on well-formed streams: header, stanzas as trees with resolved
// namespaces, any split of the input, the end of the stream, and a reset for the next one.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/serializer.h"
#include "parse_helpers.h"

using namespace mxbridge::xmpp;
using namespace mxbridge::xmpp::test;

namespace {

const std::string kConversation =
    "<?xml version='1.0' encoding='UTF-8'?>"
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' "
    "from='matrix.localhost' id='3BF96D32' xml:lang='en'>"
    "<handshake/>\n  \n"
    "<message from='juliet@example.com/balcony' to='romeo@matrix.localhost' type='chat' id='m1'>"
    "<body>Wherefore art thou, &lt;Romeo&gt; &amp; &#x263A; &#9786;?</body>"
    "<x:active xmlns:x='http://jabber.org/protocol/chatstates'/>"
    "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
    "<p>Hi <em>there</em>!</p></body></html>"
    "</message>"
    "<iq type='get' id='p1' from='example.com' to='matrix.localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
    "<presence from='a@example.com/r'><status><![CDATA[<not markup> & more]]></status></presence>"
    "</stream:stream>";

void checkConversation(const ParseResult& r) {
    REQUIRE_FALSE(r.error.has_value());
    CHECK(r.opened);
    CHECK(r.closed);
    REQUIRE(r.stanzas.size() == 4);
    CHECK(r.stanzas[0].is("handshake", ns::kComponentAccept));
    const Element& message = r.stanzas[1];
    CHECK(message.is("message", ns::kComponentAccept));
    CHECK(message.attr("from") == "juliet@example.com/balcony");
    CHECK(message.childText("body", ns::kComponentAccept) ==
          "Wherefore art thou, <Romeo> & \xE2\x98\xBA \xE2\x98\xBA?");
    CHECK(message.child("active", "http://jabber.org/protocol/chatstates") != nullptr);
    const Element* html = message.child("html", "http://jabber.org/protocol/xhtml-im");
    REQUIRE(html != nullptr);
    const Element* p = html->child("body", "http://www.w3.org/1999/xhtml")->child("p", "http://www.w3.org/1999/xhtml");
    REQUIRE(p != nullptr);
    CHECK(p->nodes().size() == 3);
    CHECK(p->text() == "Hi !");
    CHECK(p->child("em", "http://www.w3.org/1999/xhtml")->text() == "there");
    CHECK(r.stanzas[2].child("ping", ns::kPing) != nullptr);
    CHECK(r.stanzas[3].childText("status", ns::kComponentAccept) == "<not markup> & more");
}

}  // namespace

TEST_CASE("a stream opens, yields stanzas with namespaces resolved, and closes") {
    StreamParser parser;
    REQUIRE(parser.feed(kConversation));
    auto opened = parser.next();
    REQUIRE(opened);
    REQUIRE(opened->kind == StreamEvent::Kind::Opened);
    CHECK(opened->header.contentNs == ns::kComponentAccept);
    CHECK(opened->header.from == "matrix.localhost");
    CHECK(opened->header.id == "3BF96D32");
    CHECK(opened->header.lang == "en");
    CHECK(parser.opened());
    checkConversation(parseAll(kConversation));
}

TEST_CASE("any split of the input gives the same stanzas") {
    const ParseResult whole = parseAll(kConversation);
    for (std::size_t cut = 0; cut <= kConversation.size(); ++cut) {
        StreamParser parser;
        REQUIRE(parser.feed(std::string_view(kConversation).substr(0, cut)));
        REQUIRE(parser.feed(std::string_view(kConversation).substr(cut)));
        std::vector<Element> stanzas;
        while (auto e = parser.next())
            if (e->kind == StreamEvent::Kind::Stanza) stanzas.push_back(std::move(e->stanza));
        INFO("cut at byte " << cut);
        CHECK(stanzas == whole.stanzas);
    }
    for (std::size_t chunk : {1, 2, 3, 7, 64})
        checkConversation(parseAll(kConversation, chunk));
}

TEST_CASE("a stanza is handed over only when its end tag is read") {
    StreamParser parser;
    REQUIRE(parser.feed(std::string(kClientHeader) + "<message><body>part"));
    CHECK(parser.next()->kind == StreamEvent::Kind::Opened);
    CHECK_FALSE(parser.next().has_value());
    REQUIRE(parser.feed("ial</body></message>"));
    auto stanza = parser.next();
    REQUIRE(stanza);
    CHECK(stanza->stanza.childText("body", ns::kClient) == "partial");
}

TEST_CASE("whitespace keep-alives between stanzas are ignored, text there is refused") {
    auto ok = parseAll(std::string(kClientHeader) + " \n\t\r\n <presence/> \n ");
    CHECK_FALSE(ok.error.has_value());
    CHECK(ok.stanzas.size() == 1);
    auto bad = parseAll(std::string(kClientHeader) + "<presence/>hello<presence/>");
    CHECK(conditionOf(bad) == StreamErrorCondition::BadFormat);
    CHECK(bad.stanzas.size() == 1);  // what came before the error is kept
}

TEST_CASE("the root must be <stream:stream> in the streams namespace") {
    CHECK(conditionOf(parseAll("<stream:stream xmlns:stream='urn:wrong'>")) ==
          StreamErrorCondition::InvalidNamespace);
    CHECK(conditionOf(parseAll("<message xmlns='jabber:client'/>")) == StreamErrorCondition::InvalidNamespace);
    CHECK(conditionOf(parseAll("<s:other xmlns:s='http://etherx.jabber.org/streams'>")) ==
          StreamErrorCondition::BadFormat);
    CHECK(conditionOf(parseAll("<stream:stream>")) == StreamErrorCondition::BadNamespacePrefix);
}

TEST_CASE("reset() starts a new stream on a new connection") {
    StreamParser parser;
    CHECK_FALSE(parser.feed(std::string(kClientHeader) + "<presence/><!-- no -->"));
    CHECK(parser.error().has_value());
    CHECK_FALSE(parser.feed("<presence/>"));  // stays in error
    parser.reset();
    CHECK_FALSE(parser.error().has_value());
    CHECK_FALSE(parser.next().has_value());
    REQUIRE(parser.feed(std::string(kClientHeader) + "<presence/>"));
    CHECK(parser.next()->kind == StreamEvent::Kind::Opened);
    CHECK(parser.next()->kind == StreamEvent::Kind::Stanza);
}

TEST_CASE("a received stream error is read with its condition and text") {
    auto r = parseAll(std::string(kClientHeader) +
                      "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad secret</text></stream:error>"
                      "</stream:stream>");
    REQUIRE(r.stanzas.size() == 1);
    CHECK(r.stanzas[0].is("error", ns::kStreams));
    StreamError error = parseStreamError(r.stanzas[0]);
    CHECK(error.condition == StreamErrorCondition::NotAuthorized);
    CHECK(error.text == "bad secret");
    CHECK(describe(error) == "not-authorized: bad secret");
    CHECK(parseStreamError(makeStreamError(error)).condition == StreamErrorCondition::NotAuthorized);
    CHECK(conditionFromName("restricted-xml") == StreamErrorCondition::RestrictedXml);
    CHECK(conditionName(StreamErrorCondition::PolicyViolation) == "policy-violation");
    CHECK_FALSE(conditionFromName("no-such-condition").has_value());
}
