// Replies and stanza errors, checked against RFC 6120's shapes.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/serializer.h"
#include "mxbridge/xmpp/stanza.h"
#include "parse_helpers.h"

using namespace mxbridge::xmpp;
using namespace mxbridge::xmpp::test;

namespace {

Element pingRequest() {
    Element iq("iq", std::string(ns::kComponentAccept));
    iq.setAttr("from", "localhost").setAttr("to", "matrix.localhost").setAttr("id", "p1").setAttr("type", "get");
    iq.addChild("ping", std::string(ns::kPing));
    return iq;
}

}  // namespace

TEST_CASE("a reply swaps the addresses, keeps the id and has no payload") {
    Element result = makeReply(pingRequest(), "result");
    CHECK(serialize(result, ns::kComponentAccept) ==
          "<iq to='localhost' from='matrix.localhost' id='p1' type='result'/>");
}

TEST_CASE("an error bounce carries type, condition and text, and reads back") {
    Element bounce = makeErrorReply(pingRequest(), {.type = "cancel", .condition = "service-unavailable", .text = "no"});
    CHECK(bounce.attr("type") == "error");
    CHECK(bounce.attr("to") == "localhost");
    auto error = parseStanzaError(bounce);
    REQUIRE(error);
    CHECK(error->type == "cancel");
    CHECK(error->condition == "service-unavailable");
    CHECK(error->text == "no");
    CHECK(describe(*error) == "service-unavailable (cancel): no");
    CHECK_FALSE(parseStanzaError(pingRequest()).has_value());
}

TEST_CASE("a received error stanza from the wire is read, unknown parts tolerated") {
    auto r = parseAll(std::string(kClientHeader) +
                      "<message type='error' id='m1' from='x@example.com'><body>hi</body>"
                      "<error type='wait' by='example.com'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                      "<custom xmlns='urn:example'/></error></message>"
                      "<iq type='error' id='i2'/>");
    REQUIRE(r.stanzas.size() == 2);
    auto error = parseStanzaError(r.stanzas[0]);
    REQUIRE(error);
    CHECK(error->type == "wait");
    CHECK(error->condition == "resource-constraint");
    auto bare = parseStanzaError(r.stanzas[1]);
    REQUIRE(bare);
    CHECK(bare->condition == "undefined-condition");
}
