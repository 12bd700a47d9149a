// XEP-0114's handshake: lowercase hex SHA-1 of stream id then secret.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/component_handshake.h"

using namespace mxbridge::xmpp;

TEST_CASE("the handshake is the lowercase hex SHA-1 of the stream id followed by the secret") {
    // FIPS 180's "abc" vector, split between id and secret.
    CHECK(componentHandshake("a", "bc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(componentHandshake("", "") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(componentHandshake("3BF96D32", "secret") != componentHandshake("3BF96D32", "secreT"));
    CHECK(componentHandshake("3BF96D32", "secret").size() == 40);
}
