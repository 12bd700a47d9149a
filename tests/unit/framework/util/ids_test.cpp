// The identifier grammar of the spec's appendices, as the framework applies it to every id
// that comes from outside: what real homeservers produce passes, what could change a URL, a
// log line, an IRC line or a C string, or is over 255 bytes, does not.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "mxbridge/ids.h"

using namespace mxbridge;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

// Ids a hostile provisioning client or homeserver user tried (issue 9, item 19).
const std::string kHostileSuffixes[] = {
    "/../../../_synapse/admin/v1/x", "?access_token=x#frag", "\r\nQUIT", "\n", "\0"s, " x", "\t", "\x7f",
};

}  // namespace

TEST_CASE("server names follow the spec's grammar") {
    for (const char* ok : {"matrix.org", "matrix.org:8888", "1.2.3.4", "1.2.3.4:1234", "[1234:5678::abcd]",
                           "[1234:5678::abcd]:5678", "localhost", "hs", "my-server.example.org", "[::1]:8448"}) {
        INFO(ok);
        CHECK(isValidServerName(ok));
    }
    for (const char* bad : {"", ":8448", "matrix.org:", "matrix.org:123456", "matrix.org:80a", "1.2.3.256",
                            "[1234:5678::abcd", "[zz::1]", "[]", "matrix.org/x", "matrix.org?x", "matrix.org#x",
                            "exa mple.org", "example.org\r\n", "ex_ample.org", "exämple.org"}) {
        INFO(bad);
        CHECK_FALSE(isValidServerName(bad));
    }
    CHECK_FALSE(isValidServerName("localhost\0"s));
    CHECK(isValidServerName(std::string(255, 'a')));
    CHECK_FALSE(isValidServerName(std::string(256, 'a')));
}

TEST_CASE("an id whose server name is empty is refused without reading past its end") {
    // Views over buffers with no terminator after them: a read past the end is caught by ASan.
    for (std::string_view text : {"@ab:"sv, "!ab:"sv, "#ab:"sv, ":8448"sv}) {
        INFO(text);
        auto exact = std::make_unique<char[]>(text.size());
        std::copy(text.begin(), text.end(), exact.get());
        std::string_view id(exact.get(), text.size());
        if (id[0] == ':') {
            CHECK_FALSE(isValidServerName(id));
        } else {
            CHECK_FALSE(isValidServerName(id.substr(id.size())));
            CHECK_FALSE(isValidUserId(id));
            CHECK_FALSE(isValidRoomId(id));
            CHECK_FALSE(isValidRoomAlias(id));
        }
    }
}

TEST_CASE("user ids with control characters, NUL, a bad server name or over 255 bytes are refused") {
    for (const char* ok : {"@alice:example.org", "@_bridge_bob:hs.test", "@a.b=c-d/e+f:example.org:8448",
                           "@Alice:example.org", "@a!b#c$d%e?f:example.org"}) {
        INFO(ok);
        CHECK(isValidUserId(ok));
    }
    for (const char* bad : {"", "@", "@:example.org", "@alice", "@alice:", "alice:example.org", "!alice:example.org",
                            "@al ice:example.org", "@alïce:example.org", "@alice:exa/mple.org"}) {
        INFO(bad);
        CHECK_FALSE(isValidUserId(bad));
    }
    for (const std::string& suffix : kHostileSuffixes) {
        INFO(suffix);
        CHECK_FALSE(isValidUserId("@admin:localhost" + suffix));
    }
    CHECK_FALSE(isValidUserId("@ad\0min:localhost"s));
    const std::string server = ":example.org";
    CHECK(isValidUserId("@" + std::string(255 - 1 - server.size(), 'a') + server));
    CHECK_FALSE(isValidUserId("@" + std::string(256 - 1 - server.size(), 'a') + server));
}

TEST_CASE("room ids: both room version formats pass, path tricks and over-long ids do not") {
    CHECK(isValidRoomId("!abc:hs.test"));
    CHECK(isValidRoomId("!OGEhHVWSdvArJzumhm:matrix.org"));
    CHECK(isValidRoomId("!abc:[::1]:8448"));
    // Room version 12: the create event's hash, no server name.
    CHECK(isValidRoomId("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"));
    CHECK_FALSE(isValidRoomId("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL"));
    CHECK_FALSE(isValidRoomId("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og/M"));
    for (const std::string& suffix : kHostileSuffixes) {
        INFO(suffix);
        CHECK_FALSE(isValidRoomId("!a:b" + suffix));
    }
    CHECK_FALSE(isValidRoomId("!a\r\nb:hs.test"));
    CHECK_FALSE(isValidRoomId("!a\0b:hs.test"s));
    CHECK(isValidRoomId("!" + std::string(246, 'a') + ":hs.test"));
    CHECK_FALSE(isValidRoomId("!" + std::string(247, 'a') + ":hs.test"));
}

TEST_CASE("room aliases may be any printable UTF-8 before the server name") {
    CHECK(isValidRoomAlias("#matrix:example.org"));
    CHECK(isValidRoomAlias("#irc_libera_#matrix:example.org"));
    CHECK(isValidRoomAlias("#café:example.org"));
    CHECK(isValidRoomAlias("#a/b?c:example.org"));
    for (const char* bad : {"#:example.org", "#alias", "!alias:example.org", "#al ias:example.org",
                            "#\xc3:example.org", "#\xc0\xaf:example.org", "#\xed\xa0\x80:example.org",
                            "#\xc2\x85:example.org"}) {
        INFO(bad);
        CHECK_FALSE(isValidRoomAlias(bad));
    }
    for (const std::string& suffix : kHostileSuffixes) {
        INFO(suffix);
        CHECK_FALSE(isValidRoomAlias("#a:b" + suffix));
    }
    CHECK_FALSE(isValidRoomAlias("#" + std::string(256 - 1 - 8, 'a') + ":hs.test"));
}

TEST_CASE("event ids of every room version pass, control characters and over 255 bytes do not") {
    CHECK(isValidEventId("$143273582443PhrSn:example.org"));
    CHECK(isValidEventId("$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk"));
    CHECK(isValidEventId("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"));
    for (const char* bad : {"", "$", "event", "!e:hs", "$e v", "$e\r\n", "$e\x7f"}) {
        INFO(bad);
        CHECK_FALSE(isValidEventId(bad));
    }
    CHECK_FALSE(isValidEventId("$e\0"s));
    CHECK(isValidEventId("$" + std::string(254, 'a')));
    CHECK_FALSE(isValidEventId("$" + std::string(255, 'a')));
}
