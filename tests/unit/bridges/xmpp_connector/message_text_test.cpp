// A message's text between Matrix (body, formatted_body) and XMPP (a body with XEP-0393 styling).
#include <doctest/doctest.h>

#include "message_text.h"
#include "mxbridge/xmpp/namespaces.h"

using namespace mxbridge::xmpp;

namespace {
Element messageWithBody(const std::string& body) {
    Element m("message", std::string(ns::kComponentAccept));
    m.addChild("body", std::string(ns::kComponentAccept)).addText(body);
    return m;
}
}  // namespace

TEST_CASE("a formatted Matrix message reaches XMPP styled, a plain one that looks styled as unstyled") {
    XmppBody formatted = xmppBodyFor("**hi** there", std::string("<strong>hi</strong> there"));
    CHECK(formatted.text == "*hi* there");
    CHECK_FALSE(formatted.unstyled);
    XmppBody literal = xmppBodyFor("2 *3* 4", std::nullopt);
    CHECK(literal.text == "2 *3* 4");
    CHECK(literal.unstyled);
    CHECK_FALSE(xmppBodyFor("just words", std::nullopt).unstyled);

    Element stanza = messageWithBody(literal.text);
    markUnstyled(stanza, literal);
    CHECK(stanza.child("unstyled", "urn:xmpp:styling:0") != nullptr);
    // ...which the other direction honours.
    CHECK_FALSE(matrixHtmlFor(stanza, literal.text).has_value());
}

TEST_CASE("a styled XMPP body gets a formatted_body, a plain one none") {
    CHECK(matrixHtmlFor(messageWithBody("_so_ *good*"), "_so_ *good*") == "<i>_so_</i> <b>*good*</b>");
    CHECK_FALSE(matrixHtmlFor(messageWithBody("plain"), "plain").has_value());
}
