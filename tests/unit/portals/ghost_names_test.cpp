// Ghost ids as localparts: the spec's suggested mapping, its inverse, and the 255-byte limit.
#include <doctest/doctest.h>

#include <set>

#include "bridge/ghost_names.h"
#include "mxbridge/ghost_ids.h"

using namespace mxbridge;
using namespace mxbridge::detail;

namespace {

bool inLocalpartAlphabet(std::string_view s) {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '=' || c == '-' || c == '/'))
            return false;
    return !s.empty();
}

}  // namespace

TEST_CASE("ghost ids follow the spec's mapping from other character sets") {
    CHECK(escapeGhostId("alice") == "alice");
    CHECK(escapeGhostId("Alice") == "_alice");
    CHECK(escapeGhostId("snake_case") == "snake__case");
    CHECK(escapeGhostId("#chan") == "=23chan");
    CHECK(escapeGhostId("á") == "=c3=a1");
    CHECK(escapeGhostId("a=b") == "a=3db");
    CHECK(escapeGhostId("a+b") == "a=2bb");
    CHECK(escapeGhostId("libera/bob.x-1") == "libera/bob.x-1");
    CHECK(escapeGhostId(std::string("a\0b", 3)) == "a=00b");
    CHECK(escapeGhostId("") == "=");
}

TEST_CASE("every ghost id round-trips and stays in the localpart alphabet") {
    std::vector<std::string> ids = {"", "alice", "Alice", "ALICE", "_", "__", "=", "==", "=41",
                                    "_a", "a_", "nick[away]", "Ünïcødé ☃", "tab\there",
                                    "new\nline", "@evil:server", "x/y/z", "+plus", "~tilde",
                                    std::string("\xff\xfe\x00\x01", 4)};
    for (const std::string& id : ids) {
        CAPTURE(id);
        std::string escaped = escapeGhostId(id);
        CHECK(inLocalpartAlphabet(escaped));
        auto back = unescapeGhostId(escaped);
        REQUIRE(back.has_value());
        CHECK(*back == id);
    }
}

TEST_CASE("names that differ only in case map to different ghosts") {
    std::set<std::string> seen;
    for (const char* id : {"bob", "Bob", "BOB", "bOb", "b_ob", "b_Ob", "_bob"})
        CHECK(seen.insert(escapeGhostId(id)).second);
}

TEST_CASE("localparts the mapping never produces do not decode") {
    for (const char* bad : {"", "_", "_1", "=", "=4", "=zz", "=41", "=61", "=5f", "=2e", "ABC",
                            "a b", "a:b", "a=2", "==0123"}) {
        CAPTURE(bad);
        if (std::string_view(bad) == "=") continue;  // the empty ghost id
        CHECK_FALSE(unescapeGhostId(bad).has_value());
    }
    CHECK(unescapeGhostId("=") == std::string());
}

TEST_CASE("a ghost user id applies the template and fits in 255 bytes") {
    CHECK(ghostUserIdFor("irc_", "", "example.org", "Alice").str() == "@irc__alice:example.org");
    CHECK(ghostUserIdFor("x_", "_y", "hs", "bob").str() == "@x_bob_y:hs");

    std::string longName(300, 'a');
    UserId a = ghostUserIdFor("irc_", "", "example.org", longName);
    UserId b = ghostUserIdFor("irc_", "", "example.org", longName + "b");
    UserId upper = ghostUserIdFor("irc_", "", "example.org", std::string(300, 'A'));
    CHECK(a.str().size() <= kMaxUserIdLength);
    CHECK(upper.str().size() <= kMaxUserIdLength);
    CHECK(a != b);
    CHECK(a == ghostUserIdFor("irc_", "", "example.org", longName));  // stable: it names an account
    CHECK(a.str().starts_with("@irc_aaaa"));
    CHECK(a.str().find("==") != std::string::npos);
    CHECK(inLocalpartAlphabet(localpartOf(a.str())));
    CHECK(inLocalpartAlphabet(localpartOf(upper.str())));
    // A shortened id is not a full escape of anything.
    CHECK_FALSE(unescapeGhostId(std::string(localpartOf(a.str())).substr(4)).has_value());

    // The cut never splits an escape: what is kept before "==" decodes.
    UserId escapes = ghostUserIdFor("irc_", "", "example.org", std::string(200, '#'));
    std::string local(localpartOf(escapes.str()));
    CHECK(escapes.str().size() <= kMaxUserIdLength);
    std::string kept = local.substr(4, local.find("==") - 4);
    CHECK(unescapeGhostId(kept) == std::string(kept.size() / 3, '#'));

    // Exactly at the limit is kept whole.
    std::string fits(kMaxUserIdLength - std::string("@irc_:example.org").size(), 'z');
    CHECK(ghostUserIdFor("irc_", "", "example.org", fits).str().size() == kMaxUserIdLength);
    CHECK(ghostUserIdFor("irc_", "", "example.org", fits).str().find("==") == std::string::npos);
}

TEST_CASE("bridges read a ghost id back from its escaped localpart through the public header") {
    for (std::string id : {"jabber.bob@localhost", "Alice_B", "", "#chan", "caf\xc3\xa9"})
        CHECK(ghostIdFromEscaped(escapeGhostId(id)) == id);
    CHECK_FALSE(ghostIdFromEscaped("=4").has_value());
    CHECK_FALSE(ghostIdFromEscaped("A").has_value());
}
