// The kit's in-memory stores keep the contracts of the framework's SQLite ones.
#include <doctest/doctest.h>

#include "mxbridge/testing/memory_stores.h"

using namespace mxbridge;
using namespace mxbridge::testing;

TEST_CASE("a kv value is readable at once, replaced by a later put and gone after erase") {
    MemoryKvStore kv;
    CHECK_FALSE(kv.get("k"));
    kv.put("k", "1");
    kv.put("k", "2");
    CHECK(kv.get("k") == std::optional<std::string>("2"));
    kv.erase("k");
    kv.erase("never-there");
    CHECK_FALSE(kv.get("k"));
    CHECK(kv.all().empty());
}

TEST_CASE("kv list gives the keys under a prefix, in key order, and nothing past it") {
    MemoryKvStore kv;
    kv.put("q/2", "b");
    kv.put("q/1", "a");
    kv.put("q", "not under q/");
    kv.put("r/1", "other");
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    CHECK(kv.list("q/") == Pairs{{"q/1", "a"}, {"q/2", "b"}});
    CHECK(kv.list("none/").empty());
    CHECK(kv.list("").size() == 4);
}

TEST_CASE("linking a room twice updates its options instead of adding a second link") {
    MemoryLinkStore links;
    const RoomId room("!a:hs.test");
    links.link(Link{.room = room, .remote = RemoteRoomId("net/#x"), .options = {{"v", 1}}});
    links.link(Link{.room = room, .remote = RemoteRoomId("net/#y")});
    links.link(Link{.room = room, .remote = RemoteRoomId("net/#x"), .options = {{"v", 2}}});
    REQUIRE(links.forRoom(room).size() == 2);
    CHECK(links.forRemote(RemoteRoomId("net/#x")).at(0).options["v"] == 2);
    links.unlink(room, RemoteRoomId("net/#x"));
    links.unlink(room, RemoteRoomId("net/#absent"));
    REQUIRE(links.all().size() == 1);
    CHECK(links.all()[0].remote == RemoteRoomId("net/#y"));
}

TEST_CASE("ghosts map both ways and logins are kept per user and network") {
    MemoryUserStore users;
    users.setGhost(UserId("@remote_bob:hs.test"), RemoteUserId("net/bob"));
    CHECK(users.ghostForRemote(RemoteUserId("net/bob")) == UserId("@remote_bob:hs.test"));
    CHECK(users.remoteForGhost(UserId("@remote_bob:hs.test")) == RemoteUserId("net/bob"));
    CHECK_FALSE(users.remoteForGhost(UserId("@nobody:hs.test")));

    const UserId alice("@alice:hs.test");
    users.saveLogin(Login{.user = alice, .network = "libera", .remoteName = "alice",
                          .secret = Secret<std::string>("pw1")});
    users.saveLogin(Login{.user = alice, .network = "oftc", .remoteName = "al"});
    users.saveLogin(Login{.user = alice, .network = "libera", .remoteName = "alice2",
                          .secret = Secret<std::string>("pw2")});
    REQUIRE(users.login(alice, "libera"));
    CHECK(users.login(alice, "libera")->remoteName == "alice2");
    CHECK(users.login(alice, "libera")->secret.reveal() == "pw2");
    CHECK(users.logins("libera").size() == 1);
    users.removeLogin(alice, "libera");
    CHECK_FALSE(users.login(alice, "libera"));
    CHECK(users.logins("oftc").size() == 1);
}

TEST_CASE("an event mapping answers from either side and for its room") {
    MemoryEventMappingStore mappings;
    mappings.map(RoomId("!a:hs.test"), EventId("$e"), RemoteRoomId("net/#x"), RemoteMessageId("m1"));
    CHECK(mappings.remoteFor(EventId("$e")) == RemoteMessageId("m1"));
    CHECK(mappings.eventFor(RemoteRoomId("net/#x"), RemoteMessageId("m1")) == EventId("$e"));
    CHECK_FALSE(mappings.eventFor(RemoteRoomId("net/#y"), RemoteMessageId("m1")));
    CHECK(mappings.roomForEvent(EventId("$e")) == RoomId("!a:hs.test"));
}
