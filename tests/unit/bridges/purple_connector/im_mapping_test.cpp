// IM ids (stored, never changing) and text between libpurple's markup and Matrix.
#include <doctest/doctest.h>

#include "im_mapping.h"

using namespace mxbridge::purple;

TEST_CASE("an IM room names network, owner and buddy, and reads back whole") {
    std::string id = imRoomId("jabber", "@alice:hs.test", "bob@localhost");
    CHECK(id == "im/jabber/@alice:hs.test/bob@localhost");
    auto room = parseImRoomId(id);
    REQUIRE(room.has_value());
    CHECK(room->network == "jabber");
    CHECK(room->owner == "@alice:hs.test");
    CHECK(room->buddy == "bob@localhost");
    // A buddy name with slashes stays whole.
    CHECK(parseImRoomId(imRoomId("x", "@a:b", "c/d/e"))->buddy == "c/d/e");
    CHECK_FALSE(parseImRoomId("muc/jabber/room").has_value());
    CHECK_FALSE(parseImRoomId("im/jabber/@alice:hs.test/").has_value());
    CHECK_FALSE(parseImRoomId("im/jabber").has_value());
}

TEST_CASE("ghosts are per protocol and buddy") {
    CHECK(ghostIdOf("jabber", "bob@localhost") == "jabber.bob@localhost");
    CHECK(remoteUserIdOf("irc", "bob") == "irc/bob");
    CHECK(accountHandleOf("@alice:hs.test", "jabber") == "@alice:hs.test jabber");
}

TEST_CASE("a Matrix message goes to libpurple as markup") {
    CHECK(purpleMarkupOf("a < b & c\nnext", std::nullopt) == "a &lt; b &amp; c<br>next");
    CHECK(purpleMarkupOf("bold", std::string("<b>bold</b><script>x</script>")) .find("<script>") == std::string::npos);
}

TEST_CASE("libpurple's markup comes to Matrix as text, with HTML only when it was formatted") {
    MatrixText plain = matrixTextOf("hi &lt;3");
    CHECK(plain.body == "hi <3");
    CHECK_FALSE(plain.html.has_value());
    MatrixText lines = matrixTextOf("one<br>two");
    CHECK(lines.body == "one\ntwo");
    CHECK_FALSE(lines.html.has_value());
    MatrixText bold = matrixTextOf("hi <b>there</b>");
    CHECK(bold.body == "hi there");
    REQUIRE(bold.html.has_value());
    CHECK(bold.html->find("<b>there</b>") != std::string::npos);
}
