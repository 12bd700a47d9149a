// SpecCatalog, the JSON-schema validator and EventSchemas against the real spec files.
#include <doctest/doctest.h>

#include <algorithm>

#include "event_schemas.h"
#include "json_schema.h"
#include "spec_catalog.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {
bool mentions(const std::vector<std::string>& problems, const std::string& needle) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(needle) != std::string::npos; });
}
std::string joined(const std::vector<std::string>& problems) {
    std::string out;
    for (auto& p : problems) out += p + "\n";
    return out;
}
}  // namespace

TEST_CASE("the catalog finds the appservice transaction push with its full path") {
    const auto& catalog = SpecCatalog::shared();
    const Operation* op = catalog.findOperation("PUT", "/_matrix/app/v1/transactions/35");
    REQUIRE(op != nullptr);
    CHECK(op->operationId == "sendTransaction");
    CHECK(op->path == "/_matrix/app/v1/transactions/{txnId}");
    CHECK(op->authRequired);
    CHECK(catalog.matchPath(*op, "/_matrix/app/v1/transactions/35")->at("txnId") == "35");
}

TEST_CASE("the catalog knows the client-server operations a bridge uses, at their versions") {
    const auto& catalog = SpecCatalog::shared();
    struct Expect { const char* method; const char* path; const char* operationId; };
    const Expect expected[] = {
        {"GET", "/_matrix/client/versions", "getVersions"},
        {"GET", "/_matrix/client/v3/account/whoami", "getTokenOwner"},
        {"POST", "/_matrix/client/v3/register", "register"},
        {"POST", "/_matrix/client/v1/appservice/irc/ping", "pingAppservice"},
        {"POST", "/_matrix/client/v3/createRoom", "createRoom"},
        {"POST", "/_matrix/client/v3/join/%23a%3Aexample.org", "joinRoom"},
        {"POST", "/_matrix/client/v3/rooms/%21r%3Aexample.org/join", "joinRoomById"},
        {"PUT", "/_matrix/client/v3/rooms/%21r%3Aexample.org/send/m.room.message/t1", "sendMessage"},
        {"PUT", "/_matrix/client/v3/rooms/%21r%3Aexample.org/state/m.room.name/", "setRoomStateWithKey"},
        {"PUT", "/_matrix/client/v3/rooms/%21r%3Aexample.org/state/m.room.name", "setRoomStateWithKey"},
        {"GET", "/_matrix/client/v3/rooms/%21r%3Aexample.org/joined_members", "getJoinedMembersByRoom"},
        {"PUT", "/_matrix/client/v3/directory/room/%23a%3Aexample.org", "setRoomAlias"},
        {"POST", "/_matrix/media/v3/upload", "uploadContent"},
        {"GET", "/_matrix/client/v1/media/download/example.org/abc", "getContentAuthed"},
    };
    for (const auto& e : expected) {
        CAPTURE(e.path);
        const Operation* op = catalog.findOperation(e.method, e.path);
        REQUIRE(op != nullptr);
        CHECK(op->operationId == e.operationId);
    }
    CHECK(catalog.findOperation("GET", "/_matrix/client/v3/no/such/thing") == nullptr);
}

TEST_CASE("the spec's transaction example resolves its event $refs and validates") {
    const auto& catalog = SpecCatalog::shared();
    auto example = catalog.exampleRequestBody("sendTransaction");
    REQUIRE(example);
    REQUIRE((*example)["events"].size() == 2);
    const json& member = (*example)["events"][0];
    CHECK(member["type"] == "m.room.member");
    CHECK(member["room_id"] == "!jEsUZKDJdhlrceRyVU:example.org");  // from core/room_event.json
    CHECK(member["state_key"] == "@alice:example.org");               // sibling wins over core
    CHECK_FALSE(member.contains("$ref"));
    CHECK((*example)["ephemeral"][0]["room_id"] == "!jEsUZKDJdhlrceRyVU:example.org");
    auto problems = catalog.validateRequest("PUT", "/_matrix/app/v1/transactions/1", {},
                                            {{"Authorization", "Bearer hs"}}, *example);
    CHECK_MESSAGE(problems.empty(), joined(problems));
}

TEST_CASE("a transaction body without events fails with a clear path") {
    auto problems = SpecCatalog::shared().validateRequest(
        "PUT", "/_matrix/app/v1/transactions/1", {}, {{"Authorization", "Bearer hs"}},
        json{{"ephemeral", json::array()}});
    CHECK(mentions(problems, "/events: required property missing"));
}

TEST_CASE("a request without the access token the operation demands is a problem") {
    auto problems = SpecCatalog::shared().validateRequest(
        "GET", "/_matrix/client/v3/account/whoami", {}, {}, std::nullopt);
    CHECK(mentions(problems, "missing access token"));
    CHECK(SpecCatalog::shared()
              .validateRequest("GET", "/_matrix/client/v3/account/whoami", {{"access_token", "x"}}, {}, std::nullopt)
              .empty());
    CHECK(SpecCatalog::shared().validateRequest("GET", "/_matrix/client/versions", {}, {}, std::nullopt).empty());
}

TEST_CASE("typed query parameters and wrong methods are reported") {
    const auto& catalog = SpecCatalog::shared();
    auto problems = catalog.validateRequest("DELETE", "/_matrix/client/v3/createRoom", {},
                                            {{"Authorization", "Bearer t"}}, std::nullopt);
    CHECK(mentions(problems, "no DELETE operation"));
    problems = catalog.validateRequest("GET", "/_matrix/client/v3/rooms/%21r%3Ax/messages",
                                       {{"limit", "ten"}}, {{"Authorization", "Bearer t"}}, std::nullopt);
    CHECK(mentions(problems, "query parameter `limit`"));
}

TEST_CASE("responses are validated against the documented status and schema") {
    const auto& catalog = SpecCatalog::shared();
    const Operation* ping = catalog.operationById("pingAppservice");
    REQUIRE(ping);
    CHECK(catalog.validateResponse(*ping, 200, json{{"duration_ms", 12}}).empty());
    CHECK(mentions(catalog.validateResponse(*ping, 200, json{{"duration_ms", "12"}}), "/duration_ms"));
    CHECK(mentions(catalog.validateResponse(*ping, 418, json::object()), "not documented"));
    CHECK(catalog.exampleResponse("pingAppservice", 200) == json{{"duration_ms", 123}});
}

TEST_CASE("the schema validator covers the keywords the spec uses") {
    json schema = json::parse(R"({
        "type": "object", "required": ["a"],
        "properties": {"a": {"type": "integer", "minimum": 1},
                       "b": {"type": ["string", "null"], "pattern": "^x"},
                       "c": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                       "d": {"type": "array", "items": {"enum": ["p", "q"]}}},
        "patternProperties": {"^z_": {"type": "boolean"}},
        "additionalProperties": false})");
    CHECK(validateJsonSchema(schema, json{{"a", 2}, {"b", nullptr}, {"z_1", true}}).empty());
    CHECK(validateJsonSchema(schema, json{{"a", 2.0}}).empty());
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 2.5}}), "/a: expected integer"));
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 0}}), "/a: below minimum"));
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 1}, {"b", "y"}}), "/b: \"y\" does not match"));
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 1}, {"d", {"p", "r"}}}), "/d/1: value"));
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 1}, {"e", 1}}), "/e: property not allowed"));
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 1}, {"z_2", 1}}), "/z_2: expected boolean"));
    CHECK(mentions(validateJsonSchema(schema, json{{"a", 1}, {"c", true}}), "/c: matches 0 of oneOf"));
}

TEST_CASE("event schemas validate the spec's own examples and catch broken events") {
    const auto& events = EventSchemas::shared();
    for (const char* name : {"m.room.message$m.text", "m.room.member", "m.room.name",
                             "m.room.power_levels", "m.room.redaction"}) {
        CAPTURE(name);
        auto example = events.example(name);
        REQUIRE(example);
        auto problems = events.validateEvent(*example);
        CHECK_MESSAGE(problems.empty(), joined(problems));
    }
    json text = *events.example("m.room.message$m.text");
    text["content"].erase("body");
    CHECK(mentions(events.validateEvent(text), "/content/body: required property missing"));
    json member = *events.example("m.room.member");
    member["content"]["membership"] = "dancing";
    CHECK(mentions(events.validateEvent(member), "/content/membership"));
}

}  // namespace mxbridge::test
