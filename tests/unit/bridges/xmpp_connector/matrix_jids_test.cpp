// Matrix users as JIDs at the component, and back.
#include <doctest/doctest.h>

#include "matrix_jids.h"

using namespace mxbridge::xmpp;

TEST_CASE("a Matrix user's JID localpart is its id, XEP-0106-escaped, and reads back") {
    CHECK(jidLocalForMatrixUser("@bob:hs.test") == "bob\\3ahs.test");
    CHECK(jidLocalForMatrixUser("@alice:matrix.org:8448") == "alice\\3amatrix.org\\3a8448");
    CHECK(jidLocalForMatrixUser("@a/b'c:x.org") == "a\\2fb\\27c\\3ax.org");
    for (const char* id : {"@bob:hs.test", "@alice:matrix.org:8448", "@a/b'c:x.org", "@x\\3a:y.org"}) {
        INFO(id);
        auto local = jidLocalForMatrixUser(id);
        REQUIRE(local);
        CHECK(matrixUserForJidLocal(*local) == id);
    }
}

TEST_CASE("what names no Matrix user is refused both ways") {
    CHECK_FALSE(jidLocalForMatrixUser("bob:hs.test"));
    CHECK_FALSE(jidLocalForMatrixUser("@:hs.test"));
    CHECK_FALSE(jidLocalForMatrixUser("#room:hs.test"));
    CHECK_FALSE(matrixUserForJidLocal(""));
    CHECK_FALSE(matrixUserForJidLocal("bob"));          // no server
    CHECK_FALSE(matrixUserForJidLocal("bob\\20x\\3ahs.test"));  // a space
}
