// Stanza ids: unique within a generator and across generators (restarts).
#include <doctest/doctest.h>

#include <set>

#include "mxbridge/xmpp/stanza_id.h"

using namespace mxbridge::xmpp;

TEST_CASE("stanza ids never repeat and differ between generators") {
    StanzaIdGenerator a;
    StanzaIdGenerator b;
    CHECK(a.prefix().size() == 16);
    CHECK(a.prefix() != b.prefix());
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        CHECK(seen.insert(a.next()).second);
        CHECK(seen.insert(b.next()).second);
    }
    CHECK(a.next().rfind(a.prefix() + "-", 0) == 0);
}
