// BridgeContext::resolveAlias() and joinRoomAs() (matrix/gateway_joins.h) against the
// spec-checked homeserver double: what a gateway's remote user hears when they ask for a
// Matrix room by its alias.
#include <doctest/doctest.h>

#include <chrono>
#include <future>

#include "homeserver_double.h"
#include "matrix/gateway_joins.h"
#include "matrix/hs_client.h"

using namespace std::chrono_literals;
using namespace mxbridge;
using namespace mxbridge::detail;
using mxbridge::test::HomeserverDouble;

namespace {

struct Gateway {
    HomeserverDouble hs;
    HomeserverClient client{hs.url(), Secret<std::string>(hs.config().asToken), std::chrono::seconds(5)};
    GatewayJoins joins{client,
                       [](const RoomAlias& alias) { return alias.str().rfind("#_bridge_", 0) == 0; },
                       [](const UserId& user) { return user.str().rfind("@_bridge_", 0) == 0; }};

    Result<RoomId> resolve(const std::string& alias) {
        std::promise<Result<RoomId>> answer;
        joins.resolveAlias(RoomAlias(alias), [&](Result<RoomId> r) { answer.set_value(std::move(r)); });
        return answer.get_future().get();
    }
    Result<JoinedRoom> join(const std::string& ghost, const std::string& alias, std::size_t history = 0) {
        std::promise<Result<JoinedRoom>> answer;
        joins.joinRoomAs(UserId(ghost), RoomAlias(alias), history,
                         [&](Result<JoinedRoom> r) { answer.set_value(std::move(r)); });
        return answer.get_future().get();
    }
};

}  // namespace

TEST_CASE("a gateway finds a room by alias, and the homeserver's refusals come with its errcode") {
    Gateway g;
    std::string room = g.hs.createRoom("@bob:example.org", {{"preset", "public_chat"}, {"room_alias_name", "lounge"}});
    auto found = g.resolve("#lounge:" + g.hs.config().serverName);
    REQUIRE(found.ok());
    CHECK(found->str() == room);
    auto missing = g.resolve("#nowhere:" + g.hs.config().serverName);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == "M_NOT_FOUND");
    auto own = g.resolve("#_bridge_lounge:" + g.hs.config().serverName);
    REQUIRE_FALSE(own.ok());
    CHECK(own.error().code == "own_portal");
    auto malformed = g.resolve("lounge");
    REQUIRE_FALSE(malformed.ok());
    CHECK(malformed.error().code == "M_INVALID_PARAM");
}

TEST_CASE("a ghost joins a public room by alias and hears who is there, its name and topic") {
    Gateway g;
    const std::string server = g.hs.config().serverName;
    g.hs.addUser("@bob:example.org", {.displayname = "Bob", .avatarUrl = std::nullopt});
    std::string room = g.hs.createRoom("@bob:example.org", {{"preset", "public_chat"},
                                                             {"room_alias_name", "lounge"},
                                                             {"name", "The Lounge"},
                                                             {"topic", "Matrix lounge"}});
    g.hs.createRoom("@bob:example.org", {{"preset", "private_chat"}, {"room_alias_name", "secret"}});
    const std::string ghost = "@_bridge_alice:" + server;
    auto joined = g.join(ghost, "#lounge:" + server);
    REQUIRE_MESSAGE(joined.ok(), joined.error().message);
    CHECK(joined->room.str() == room);
    CHECK(joined->name == "The Lounge");
    CHECK(joined->topic == "Matrix lounge");
    std::map<std::string, std::string> members;
    for (const auto& m : joined->members) members[m.user.str()] = m.displayName;
    CHECK(members.count(ghost) == 1);
    CHECK(members.count("@bob:example.org") == 1);
    CHECK(g.hs.members(room)[ghost] == "join");
    CHECK(g.hs.isRegistered(ghost));

    // The room's rules decide: an invite-only room refuses, and nobody invites the ghost.
    auto refused = g.join(ghost, "#secret:" + server);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "M_FORBIDDEN");
    auto notOurs = g.join("@carol:" + server, "#lounge:" + server);
    REQUIRE_FALSE(notOurs.ok());
    CHECK(notOurs.error().code == "not_a_ghost");
    CHECK(g.hs.specViolations().empty());
}

TEST_CASE("a ghost joining hears the room's last lines, oldest first, as far as the room lets it read back") {
    Gateway g;
    const std::string server = g.hs.config().serverName;
    std::string room = g.hs.createRoom("@bob:example.org", {{"preset", "public_chat"}, {"room_alias_name", "lounge"}});
    for (const char* line : {"one", "two", "three"})
        g.hs.sendAsUser(room, "@bob:example.org", {{"msgtype", "m.text"}, {"body", line}});
    g.hs.sendAsUser(room, "@bob:example.org",
                    {{"msgtype", "m.text"}, {"body", "**four**"}, {"format", "org.matrix.custom.html"},
                     {"formatted_body", "<b>four</b>"}});
    auto joined = g.join("@_bridge_alice:" + server, "#lounge:" + server, 3);
    REQUIRE_MESSAGE(joined.ok(), joined.error().message);
    REQUIRE(joined->history.size() == 3);
    CHECK(joined->history[0].body == "two");
    CHECK(joined->history[1].body == "three");
    CHECK(joined->history[2].html == "<b>four</b>");
    CHECK(joined->history[2].sender.str() == "@bob:example.org");
    CHECK(joined->history[2].timestampMs > 0);
    CHECK_FALSE(joined->history[2].event.empty());

    // A room that shows newcomers nothing from before they joined: no history.
    std::string closed = g.hs.createRoom("@bob:example.org", {{"preset", "public_chat"}, {"room_alias_name", "closed"},
        {"initial_state", {{{"type", "m.room.history_visibility"}, {"state_key", ""},
                            {"content", {{"history_visibility", "joined"}}}}}}});
    g.hs.sendAsUser(closed, "@bob:example.org", {{"msgtype", "m.text"}, {"body", "before you came"}});
    auto newcomer = g.join("@_bridge_alice:" + server, "#closed:" + server, 10);
    REQUIRE(newcomer.ok());
    CHECK(newcomer->history.empty());
    CHECK(g.hs.specViolations().empty());
}
