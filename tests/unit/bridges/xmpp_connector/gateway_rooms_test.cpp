// The gateway MUC service's rules: room JIDs to Matrix aliases and back, Matrix members' nicks,
// the presences occupants see, and what a refused join tells the XMPP user.
#include <doctest/doctest.h>

#include "gateway_rooms.h"
#include "muc.h"
#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/serializer.h"

using namespace mxbridge;
using namespace mxbridge::xmpp;

TEST_CASE("a room JID's localpart names the alias: the server is the tail after the last '#'") {
    auto t = GatewayRoomTemplate::parse("{alias}#{server}");
    REQUIRE(t);
    CHECK(t->aliasFor("lounge#hs.example") == "#lounge:hs.example");
    CHECK(t->aliasFor("c#sharp#hs.example") == "#c#sharp:hs.example");  // an alias may hold '#'
    CHECK(t->aliasFor("lounge#hs.example\\3a8448") == "#lounge:hs.example:8448");  // XEP-0106 ':'
    CHECK(t->aliasFor("a\\40b#hs.example") == "#a@b:hs.example");
    CHECK_FALSE(t->aliasFor("lounge"));
    CHECK_FALSE(t->aliasFor("#hs.example"));
    CHECK_FALSE(t->aliasFor("lounge#"));
    CHECK_FALSE(t->aliasFor("lounge#hs_example"));       // no server name
    CHECK_FALSE(t->aliasFor("a\\3ab#hs.example"));       // an alias localpart never holds ':'
    CHECK_FALSE(t->aliasFor("bob\\3ahs.example"));       // a Matrix user's JID is no room
    CHECK(t->localpartFor("#lounge:hs.example") == "lounge#hs.example");
    CHECK(t->localpartFor("#a@b:hs.example:8448") == "a\\40b#hs.example\\3a8448");
    CHECK_FALSE(t->localpartFor("lounge:hs.example"));
    CHECK_FALSE(t->localpartFor("#lounge"));
    CHECK_FALSE(t->localpartFor("#:hs.example"));
}

TEST_CASE("gateway room templates: a prefix and suffix; ambiguous ones refused with why") {
    auto t = GatewayRoomTemplate::parse("mx.{alias}%{server}!");
    REQUIRE(t);
    CHECK(t->aliasFor("mx.lounge%hs.example!") == "#lounge:hs.example");
    CHECK_FALSE(t->aliasFor("lounge%hs.example!"));
    CHECK(t->localpartFor("#lounge:hs.example") == "mx.lounge%hs.example!");
    std::string why;
    CHECK_FALSE(GatewayRoomTemplate::parse("{alias}.{server}", &why));
    CHECK(why.find("between") != std::string::npos);
    CHECK_FALSE(GatewayRoomTemplate::parse("{server}#{alias}", &why));
    CHECK_FALSE(GatewayRoomTemplate::parse("{alias}#{alias}{server}", &why));
    CHECK_FALSE(GatewayRoomTemplate::parse("{alias}#", &why));
    CHECK_FALSE(GatewayRoomTemplate::parse("{alias}#{server}x", &why));
}

TEST_CASE("a Matrix member's nick: their display name, else their localpart, told apart by id") {
    CHECK(matrixMemberNick("Bob", "@bob:hs.example", {}) == "Bob");
    CHECK(matrixMemberNick("  Bob ", "@bob:hs.example", {}) == "Bob");
    CHECK(matrixMemberNick("", "@bob:hs.example", {}) == "bob");
    CHECK(matrixMemberNick("\x01", "@bob:hs.example", {}) == "bob");  // no valid nick
    CHECK(matrixMemberNick("Bob", "@bob2:hs.example", {"Bob"}) == "Bob (@bob2:hs.example)");
    CHECK(matrixMemberNick("Bob", "@bob2:hs.example", {"Bob", "Bob (@bob2:hs.example)"}) ==
          "Bob (@bob2:hs.example 2)");
}

TEST_CASE("occupants' presences carry the real JID, the role, and the status codes") {
    Jid occupant = *Jid::parse("lounge#hs.example@matrix.example/Bob");
    Jid alice = *Jid::parse("alice@xmpp.example/pc");
    Element self = occupantPresence(occupant, alice, alice.str(), true, {100, 110});
    CHECK(serialize(self) ==
          "<presence xmlns='jabber:component:accept' from='lounge#hs.example@matrix.example/Bob' "
          "to='alice@xmpp.example/pc'><x xmlns='http://jabber.org/protocol/muc#user'>"
          "<item affiliation='member' role='participant' jid='alice@xmpp.example/pc'/>"
          "<status code='100'/><status code='110'/></x></presence>");
    Element gone = occupantPresence(occupant, alice, "", false, {307});
    CHECK(gone.attrOr("type") == "unavailable");
    const Element* item = gone.child("x", ns::kMucUser)->child("item", ns::kMucUser);
    CHECK(item->attrOr("role") == "none");
    CHECK_FALSE(item->attr("jid"));
}

TEST_CASE("a refused join tells why in XEP-0045's terms") {
    CHECK(joinRefusal(Error::permanent("M_NOT_FOUND", "no alias")).condition == "item-not-found");
    StanzaError forbidden = joinRefusal(Error::permanent("M_FORBIDDEN", "You are not invited to this room."));
    CHECK(forbidden.condition == "forbidden");
    CHECK(forbidden.type == "auth");
    CHECK(forbidden.text.find("not invited") != std::string::npos);
    CHECK(joinRefusal(Error::permanent("own_portal", "a portal")).condition == "not-allowed");
    StanzaError later = joinRefusal(Error::transient("homeserver_unreachable", "no answer"));
    CHECK(later.condition == "service-unavailable");
    CHECK(later.type == "wait");
}

TEST_CASE("history on join: as much as the join asks for, dated and with the room's id") {
    auto join = [](const std::string& x) {
        Element presence("presence", std::string(ns::kComponentAccept));
        if (!x.empty()) {
            Element& muc = presence.addChild("x", std::string(ns::kMuc));
            Element& history = muc.addChild("history", std::string(ns::kMuc));
            auto eq = x.find('=');
            history.setAttr(x.substr(0, eq), x.substr(eq + 1));
        }
        return presence;
    };
    CHECK(historyWanted(join("")) == 20);
    CHECK(historyWanted(join("maxstanzas=5")) == 5);
    CHECK(historyWanted(join("maxstanzas=0")) == 0);
    CHECK(historyWanted(join("maxchars=0")) == 0);
    CHECK(historyWanted(join("maxstanzas=99999999999999999999")) == 50);
    CHECK(historyWanted(join("maxstanzas=-1")) == 20);
    CHECK(historyWanted(join("seconds=60")) == 20);
    CHECK(xmppTimestamp(0) == "1970-01-01T00:00:00.000Z");
    CHECK(xmppTimestamp(1796687839123) == "2026-12-07T23:57:19.123Z");
    Element line = historyMessage(*Jid::parse("lounge#hs.example@matrix.example/Bob"), *Jid::parse("alice@xmpp.example/pc"),
                                  "hi", false, "$ev", 1796687839123);
    CHECK(serialize(line) ==
          "<message xmlns='jabber:component:accept' from='lounge#hs.example@matrix.example/Bob' "
          "to='alice@xmpp.example/pc' type='groupchat'><body>hi</body>"
          "<delay xmlns='urn:xmpp:delay' stamp='2026-12-07T23:57:19.123Z' from='lounge#hs.example@matrix.example'/>"
          "<stanza-id xmlns='urn:xmpp:sid:0' id='$ev' by='lounge#hs.example@matrix.example'/></message>");
}

TEST_CASE("the subject comes as a groupchat message from the room, empty included") {
    Element subject = subjectMessage(*Jid::parse("lounge#hs.example@matrix.example"),
                                     *Jid::parse("alice@xmpp.example/pc"), "");
    CHECK(serialize(subject) ==
          "<message xmlns='jabber:component:accept' from='lounge#hs.example@matrix.example' "
          "to='alice@xmpp.example/pc' type='groupchat'><subject/></message>");
}
