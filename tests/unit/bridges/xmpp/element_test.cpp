// The element tree: lookups by name and namespace, text, building, copies and equality.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/element.h"
#include "mxbridge/xmpp/namespaces.h"

using namespace mxbridge::xmpp;

namespace {

Element sampleMessage() {
    Element message("message", "jabber:component:accept");
    message.setAttr("to", "romeo@example.net").setAttr("type", "chat");
    message.addChild("body", "jabber:component:accept").addText("Hello");
    message.addChild("active", "http://jabber.org/protocol/chatstates");
    return message;
}

}  // namespace

TEST_CASE("children are found by local name and namespace, never by one alone") {
    Element message = sampleMessage();
    REQUIRE(message.child("body", "jabber:component:accept") != nullptr);
    CHECK(message.child("body", "jabber:client") == nullptr);
    CHECK(message.child("active", "http://jabber.org/protocol/chatstates") != nullptr);
    CHECK(message.childText("body", "jabber:component:accept") == "Hello");
    CHECK_FALSE(message.childText("subject", "jabber:component:accept").has_value());
    CHECK(message.elements().size() == 2);
}

TEST_CASE("attributes: unprefixed by default, namespaced ones apart, set replaces") {
    Element message = sampleMessage();
    CHECK(message.attr("to") == "romeo@example.net");
    CHECK_FALSE(message.attr("from").has_value());
    CHECK(message.attrOr("from", "none") == "none");
    message.setAttr("lang", "en", std::string(ns::kXml));
    CHECK(message.attr("lang", ns::kXml) == "en");
    CHECK_FALSE(message.attr("lang").has_value());
    message.setAttr("type", "normal");
    CHECK(message.attr("type") == "normal");
    CHECK(message.attributes().size() == 3);
    message.removeAttr("type");
    CHECK_FALSE(message.attr("type").has_value());
}

TEST_CASE("text() is the element's own text, mixed content keeps its order") {
    Element p("p", "http://www.w3.org/1999/xhtml");
    p.addText("Hello ");
    p.addChild("strong", "http://www.w3.org/1999/xhtml").addText("big");
    p.addText(" world");
    p.addText("!");  // merged with the text just before
    CHECK(p.text() == "Hello  world!");
    REQUIRE(p.nodes().size() == 3);
    CHECK(p.nodes()[0].text() == "Hello ");
    CHECK(p.nodes()[1].element().text() == "big");
    CHECK(p.nodes()[2].text() == " world!");
    p.setText("plain");
    CHECK(p.nodes().size() == 1);
    CHECK(p.text() == "plain");
}

TEST_CASE("copies are deep and equality ignores attribute order") {
    Element a = sampleMessage();
    Element b = a;
    CHECK(a == b);
    b.child("body", "jabber:component:accept")->setText("changed");
    CHECK(a.childText("body", "jabber:component:accept") == "Hello");
    CHECK_FALSE(a == b);

    Element x("iq", "jabber:client");
    x.setAttr("id", "1").setAttr("type", "get");
    Element y("iq", "jabber:client");
    y.setAttr("type", "get").setAttr("id", "1");
    CHECK(x == y);
    y.setAttr("id", "2");
    CHECK_FALSE(x == y);
}
