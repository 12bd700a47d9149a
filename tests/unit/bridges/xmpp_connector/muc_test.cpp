// The MUC rules: aliases to rooms, occupants to ghosts, MUC presences, the room's stanza ids,
// nick conflicts, and dropping a message seen twice.
#include <doctest/doctest.h>

#include "muc.h"
#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/stream_parser.h"

using namespace mxbridge::xmpp;

namespace {

// One stanza from its XML, as the component's stream delivers it.
Element stanza(const std::string& xml) {
    StreamParser parser;
    REQUIRE(parser.feed("<stream:stream xmlns='jabber:component:accept' "
                        "xmlns:stream='http://etherx.jabber.org/streams'>" + xml));
    for (auto event = parser.next(); event; event = parser.next())
        if (event->kind == StreamEvent::Kind::Stanza) return event->stanza;
    FAIL("no stanza in " << xml);
    return {};
}

}  // namespace

TEST_CASE("the default alias template names room@service, rooms with '_' included") {
    auto t = MucAliasTemplate::parse("xmpp_{room}_{service}");
    REQUIRE(t);
    CHECK(t->roomFor("xmpp_lounge_conference.example.org")->str() == "lounge@conference.example.org");
    CHECK(t->roomFor("xmpp_dev_talk_muc.example.org")->str() == "dev_talk@muc.example.org");
    CHECK(t->roomFor("xmpp_Lounge_Conference.Example.org")->str() == "lounge@conference.example.org");
    CHECK_FALSE(t->roomFor("xmpp_lounge"));
    CHECK_FALSE(t->roomFor("xmpp__conference.example.org"));
    CHECK_FALSE(t->roomFor("xmpp_lounge_"));
    CHECK_FALSE(t->roomFor("irc_lounge_conference.example.org"));
    CHECK_FALSE(t->roomFor("xmpp_a&b_conference.example.org"));  // no valid localpart
    CHECK(t->localpartFor(*Jid::parse("dev_talk@muc.example.org")) == "xmpp_dev_talk_muc.example.org");
}

TEST_CASE("other alias templates: service first, a suffix; bad ones refused with why") {
    auto t = MucAliasTemplate::parse("x.{service}_{room}.muc");
    REQUIRE(t);
    CHECK(t->roomFor("x.chat.example.org_lounge.muc")->str() == "lounge@chat.example.org");
    auto u = MucAliasTemplate::parse("muc={service}={room}");
    REQUIRE(u);
    CHECK(u->roomFor("muc=chat.example.org=lo=unge")->str() == "lo=unge@chat.example.org");
    CHECK(u->localpartFor(*Jid::parse("lo=unge@chat.example.org")) == "muc=chat.example.org=lo=unge");
    std::string why;
    CHECK_FALSE(MucAliasTemplate::parse("xmpp_{room}", &why));
    CHECK(why.find("{service}") != std::string::npos);
    CHECK_FALSE(MucAliasTemplate::parse("{room}{service}", &why));
    CHECK(why.find("between") != std::string::npos);
    CHECK_FALSE(MucAliasTemplate::parse("{room}.{service}", &why));  // which dot ends the room?
    CHECK_FALSE(MucAliasTemplate::parse("{room}_{service}_{room}", &why));
}

TEST_CASE("an occupant is its occupant id, else its real JID, else room/nick") {
    Jid room = *Jid::parse("lounge@conf.example");
    CHECK(occupantIdentity(room, "al", "abc=", "alice@example.org/phone").remoteUserId == "lounge@conf.example#abc=");
    CHECK(occupantIdentity(room, "al", std::nullopt, "Alice@Example.org/phone").remoteUserId == "alice@example.org");
    CHECK(occupantIdentity(room, "al", std::nullopt, std::nullopt).remoteUserId == "lounge@conf.example/al");
    CHECK(occupantIdentity(room, "al", "", std::nullopt).remoteUserId == "lounge@conf.example/al");
}

TEST_CASE("MUC presences: self, created, nick change, leave, occupant id, real JID") {
    auto self = parseMucPresence(stanza(
        "<presence from='r@c.example/bridge' to='m.example'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>"));
    REQUIRE(self);
    CHECK(self->self);
    CHECK(self->roomCreated);
    CHECK(self->available);
    CHECK(self->nick == "bridge");

    auto rename = parseMucPresence(stanza(
        "<presence from='r@c.example/alice' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<item nick='alicia' jid='alice@example.org/pc'/><status code='303'/></x>"
        "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='oid1'/></presence>"));
    REQUIRE(rename);
    CHECK_FALSE(rename->available);
    CHECK_FALSE(rename->self);
    CHECK(rename->newNick == "alicia");
    CHECK(rename->realJid == "alice@example.org");
    CHECK(rename->occupantId == "oid1");

    auto leave = parseMucPresence(stanza(
        "<presence from='r@c.example/bob' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<item nick='ignored without 303'/></x></presence>"));
    REQUIRE(leave);
    CHECK_FALSE(leave->newNick);

    CHECK_FALSE(parseMucPresence(stanza("<presence from='alice@example.org/pc'/>")));
    CHECK_FALSE(parseMucPresence(stanza("<presence from='r@c.example'><x xmlns='http://jabber.org/protocol/muc#user'/></presence>")));
    CHECK_FALSE(parseMucPresence(stanza("<presence from='r@c.example/x' type='error'><x xmlns='http://jabber.org/protocol/muc#user'/></presence>")));
}

TEST_CASE("only the room's own stanza-id counts; one another 'by' claims is ignored") {
    Jid room = *Jid::parse("r@c.example");
    auto message = stanza(
        "<message from='r@c.example/alice' type='groupchat'><body>hi</body>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='forged'/>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='r@c.example' id='real-1'/></message>");
    CHECK(roomStanzaId(message, room) == "real-1");
    CHECK_FALSE(roomStanzaId(stanza("<message from='r@c.example/alice' type='groupchat'><body>hi</body>"
                                    "<stanza-id xmlns='urn:xmpp:sid:0' by='r@c.example/alice' id='x'/></message>"),
                             room));
    CHECK_FALSE(roomStanzaId(stanza("<message from='r@c.example/alice'><body>hi</body></message>"), room));
}

TEST_CASE("the join asks for no history and names the occupant") {
    Element p = mucJoinPresence(*Jid::parse("m.example"), *Jid::parse("r@c.example/Matrix"));
    CHECK(p.attrOr("to") == "r@c.example/Matrix");
    CHECK(p.attrOr("from") == "m.example");
    const Element* x = p.child("x", ns::kMuc);
    REQUIRE(x);
    REQUIRE(x->child("history", ns::kMuc));
    CHECK(x->child("history", ns::kMuc)->attrOr("maxstanzas") == "0");
}

TEST_CASE("nick conflicts: the wanted nick, then suffixed ones; blank falls back") {
    CHECK(nickAttempt("Bob", "bob", 0) == "Bob");
    CHECK(nickAttempt("Bob", "bob", 1) == "Bob (Matrix)");
    CHECK(nickAttempt("Bob", "bob", 2) == "Bob (Matrix 2)");
    CHECK(nickAttempt("  ", "bob", 0) == "bob");
    CHECK(nickAttempt(" Bob ", "bob", 0) == "Bob");
}

TEST_CASE("a message seen twice is recognised; the memory is bounded") {
    RecentIds seen(3);
    CHECK(seen.insert("a"));
    CHECK_FALSE(seen.insert("a"));
    CHECK(seen.insert("b"));
    CHECK(seen.insert("c"));
    CHECK(seen.insert("d"));  // "a" forgotten
    CHECK_FALSE(seen.contains("a"));
    CHECK(seen.contains("d"));
}
