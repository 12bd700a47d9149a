// JIDs: parts, limits, normalisation, and XEP-0106 escaping with the XEP's own examples.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/jid.h"

using namespace mxbridge::xmpp;

TEST_CASE("a JID splits into localpart, domainpart and resourcepart") {
    auto full = Jid::parse("juliet@example.com/balcony/with@slash");
    REQUIRE(full);
    CHECK(full->local() == "juliet");
    CHECK(full->domain() == "example.com");
    CHECK(full->resource() == "balcony/with@slash");
    CHECK(full->isFull());
    CHECK(full->bare().str() == "juliet@example.com");
    CHECK(full->bareStr() == "juliet@example.com");
    CHECK(full->str() == "juliet@example.com/balcony/with@slash");
    auto domain = Jid::parse("matrix.localhost");
    REQUIRE(domain);
    CHECK(domain->local().empty());
    CHECK(domain->isBare());
    CHECK(domain->str() == "matrix.localhost");
    auto withResource = domain->withResource("r 1");
    REQUIRE(withResource);
    CHECK(withResource->str() == "matrix.localhost/r 1");
    CHECK(Jid::parse("room@conference.localhost/nick with spaces")->resource() == "nick with spaces");
    CHECK(Jid::parse("[::1]")->domain() == "[::1]");
}

TEST_CASE("localpart and domainpart are compared without ASCII case, the resource with it") {
    auto a = Jid::parse("Juliet@Example.COM./Balcony");
    REQUIRE(a);
    CHECK(a->str() == "juliet@example.com/Balcony");
    CHECK(*a == *Jid::parse("juliet@example.com/Balcony"));
    CHECK_FALSE(*a == *Jid::parse("juliet@example.com/balcony"));
}

TEST_CASE("invalid JIDs are refused with a reason") {
    std::string why;
    for (const char* bad : {"", "@example.com", "juliet@", "juliet@example.com/", "/resource",
                            "jul iet@example.com", "jul:iet@example.com", "a<b@example.com",
                            "a'b@example.com", "a\"b@example.com", "a&b@example.com", "a@b@example.com",
                            "example..com", ".example.com", "example.com..", "0..", "exa mple.com", "example.com\n",
                            "juliet@example.com/\x01", "\xC3\x28@example.com", "[::1", "[zz]"}) {
        INFO(bad);
        why.clear();
        CHECK_FALSE(Jid::parse(bad, &why).has_value());
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("each part may hold 1023 bytes, not one more") {
    std::string part(1023, 'a');
    auto ok = Jid::parse(part + "@" + std::string(1023, 'b') + "/" + std::string(1023, 'c'));
    REQUIRE(ok);
    CHECK(ok->local().size() == 1023);
    std::string why;
    CHECK_FALSE(Jid::parse(part + "a@example.com", &why));
    CHECK(why.find("1023") != std::string::npos);
    CHECK_FALSE(Jid::parse("a@" + std::string(1024, 'b')));
    CHECK_FALSE(Jid::parse("a@b/" + std::string(1024, 'c')));
    CHECK(Jid::fromParts("a", "b", std::string(1023, 'c')));
    CHECK_FALSE(Jid::fromParts("a", "", "c"));
}

TEST_CASE("XEP-0106 escapes what a localpart cannot hold, and unescapes it exactly") {
    struct Case {
        const char* raw;
        const char* escaped;
    };
    // XEP-0106's table of examples.
    const Case cases[] = {
        {"space cadet", "space\\20cadet"},
        {"call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22"},
        {"at&t guy", "at\\26t\\20guy"},
        {"d'artagnan", "d\\27artagnan"},
        {"/.fanboy", "\\2f.fanboy"},
        {"::foo::", "\\3a\\3afoo\\3a\\3a"},
        {"<foo>", "\\3cfoo\\3e"},
        {"user@host", "user\\40host"},
        {"c:\\net", "c\\3a\\net"},
        {"c:\\\\net", "c\\3a\\\\net"},
        {"c:\\cool stuff", "c\\3a\\cool\\20stuff"},
        {"c:\\5commas", "c\\3a\\5c5commas"},
    };
    for (const auto& c : cases) {
        INFO(c.raw);
        auto escaped = escapeLocalpart(c.raw);
        REQUIRE(escaped);
        CHECK(*escaped == c.escaped);
        CHECK(unescapeLocalpart(*escaped) == c.raw);
        CHECK(Jid::fromParts(*escaped, "example.com"));
    }
    // A Matrix user id fits in a localpart once escaped, and comes back unchanged.
    auto mxid = escapeLocalpart("@alice:matrix.org");
    REQUIRE(mxid);
    CHECK(*mxid == "\\40alice\\3amatrix.org");
    CHECK(unescapeLocalpart(*mxid) == "@alice:matrix.org");
}

TEST_CASE("escaping refuses what cannot become a localpart") {
    CHECK_FALSE(escapeLocalpart(""));
    CHECK_FALSE(escapeLocalpart(" leading"));
    CHECK_FALSE(escapeLocalpart("trailing "));
    CHECK_FALSE(escapeLocalpart("tab\there"));
    CHECK_FALSE(escapeLocalpart("\xC3\x28"));
    CHECK_FALSE(escapeLocalpart(std::string(400, '@')));  // 1200 bytes escaped
    CHECK(escapeLocalpart(std::string(341, '@')));         // 1023 bytes escaped
}

TEST_CASE("unescaping leaves backslashes that start no escape sequence") {
    CHECK(unescapeLocalpart("a\\b") == "a\\b");
    CHECK(unescapeLocalpart("a\\") == "a\\");
    CHECK(unescapeLocalpart("a\\2") == "a\\2");
    CHECK(unescapeLocalpart("a\\2F") == "a\\2F");  // escapes are lowercase hex
    CHECK(unescapeLocalpart("\\5c20") == "\\20");
}

TEST_CASE("escaping is one to one over tricky backslash sequences") {
    for (const char* raw : {"\\", "\\\\", "\\5c", "\\5c5c", "\\20", "a\\", "\\3a\\", "\\\\20", "\\2", "x\\40y"}) {
        INFO(raw);
        auto escaped = escapeLocalpart(raw);
        REQUIRE(escaped);
        CHECK(unescapeLocalpart(*escaped) == raw);
    }
}
