// Channel names from outside, checked against the server's CHANTYPES and CHANNELLEN.
#include <doctest/doctest.h>

#include "mxbridge/irc/channel_name.h"

using namespace mxbridge::irc;

TEST_CASE("a channel name with a comma, a space or a control character is refused, a plain one is not") {
    ISupport defaults;  // nothing heard from the server yet: "#&", 200 bytes
    CHECK_FALSE(channelNameProblem("#matrix", defaults));
    CHECK_FALSE(channelNameProblem("&local", defaults));
    auto comma = channelNameProblem("#p2,#x", defaults);
    REQUIRE(comma);
    CHECK(comma->find("','") != std::string::npos);
    CHECK(channelNameProblem("#two words", defaults));
    CHECK(channelNameProblem(std::string_view("#nul\0x", 6), defaults));
    CHECK(channelNameProblem("#bell\x07", defaults));
    CHECK(channelNameProblem("#cr\r\nQUIT", defaults));
    CHECK(channelNameProblem("", defaults));
    CHECK(channelNameProblem("matrix", defaults));
}

TEST_CASE("the server's CHANTYPES and CHANNELLEN decide which prefixes and lengths are channels") {
    ISupport server;
    server.applyToken("CHANTYPES=#");
    server.applyToken("CHANNELLEN=10");
    CHECK_FALSE(channelNameProblem("#abcdefghi", server));  // 10 bytes
    auto tooLong = channelNameProblem("#abcdefghij", server);
    REQUIRE(tooLong);
    CHECK(tooLong->find("CHANNELLEN") != std::string::npos);
    auto prefix = channelNameProblem("&local", server);
    REQUIRE(prefix);
    CHECK(prefix->find("\"#\"") != std::string::npos);
}
