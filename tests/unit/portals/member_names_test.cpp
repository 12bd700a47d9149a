// MemberNames: the display names bridges give puppets (MatrixMessage::senderName).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>

#include "bridge/member_names.h"
#include "matrix/hs_client.h"
#include "test_http_server.h"

using namespace mxbridge;
using namespace mxbridge::detail;

TEST_CASE("a Matrix user's display name comes from their member event in that room") {
    int lookups = 0;
    MemberNames names([&](const RoomId&, const UserId&) {
        ++lookups;
        return std::optional<nlohmann::json>();
    });
    const RoomId room("!r:hs"), other("!o:hs");
    const UserId alice("@alice:hs");
    names.noteMembership(room, alice, "join", "Alice");
    names.noteMembership(other, alice, "join", "Alice in other");
    CHECK(names.displayName(room, alice) == "Alice");
    CHECK(names.displayName(other, alice) == "Alice in other");
    names.noteMembership(room, alice, "join", "Alice2");  // a display name change
    CHECK(names.displayName(room, alice) == "Alice2");
    names.noteMembership(room, UserId("@bob:hs"), "join", "");  // none set: the localpart
    CHECK(names.displayName(room, UserId("@bob:hs")) == "bob");
    CHECK(lookups == 0);
}

TEST_CASE("a member not seen joining is asked for once; without an answer the localpart is used and asked again") {
    int lookups = 0;
    bool answer = false;
    MemberNames names([&](const RoomId&, const UserId&) -> std::optional<nlohmann::json> {
        ++lookups;
        if (!answer) return std::nullopt;
        return nlohmann::json{{"membership", "join"}, {"displayname", "Carol C."}};
    });
    const RoomId room("!r:hs");
    const UserId carol("@carol:hs");
    CHECK(names.displayName(room, carol) == "carol");
    answer = true;
    CHECK(names.displayName(room, carol) == "Carol C.");
    CHECK(names.displayName(room, carol) == "Carol C.");
    CHECK(lookups == 2);
    names.noteMembership(room, carol, "leave", "");
    CHECK(names.displayName(room, carol) == "Carol C.");  // asked again after leaving
    CHECK(lookups == 3);
}

TEST_CASE("while the homeserver fails, an unseen sender's name is its localpart at once, not two more failed calls") {
    std::atomic<int> asked{0};
    mxbridge::test::TestHttpServer homeserver([&](const mxbridge::test::HttpRequest&) {
        ++asked;
        return mxbridge::test::HttpResponse::error(503, "M_UNKNOWN", "down for maintenance");
    });
    HomeserverClient client(homeserver.url(), Secret<std::string>("as-token"), std::chrono::seconds(5));
    MemberNames names(MemberNames::viaHomeserver(client));
    const RoomId room("!r:hs");
    CHECK(names.displayName(room, UserId("@carol:hs")) == "carol");
    CHECK(asked == 1);  // the member event's 503 is enough: the profile is not asked
    CHECK(names.displayName(room, UserId("@dave:hs")) == "dave");
    CHECK(names.displayName(room, UserId("@carol:hs")) == "carol");
    CHECK(asked == 1);
}
