// matrix.to and matrix: links, with the spec's examples (appendices, "Matrix URIs").
#include <doctest/doctest.h>

#include "mxbridge/format/matrix_link.h"

using namespace mxbridge::format;

TEST_CASE("the spec's matrix.to examples, encoded or not, are read as what they link to") {
    auto alias = parseMatrixLink("https://matrix.to/#/%23somewhere:example.org");
    REQUIRE(alias);
    CHECK(alias->kind == MatrixLinkKind::RoomAlias);
    CHECK(alias->id == "#somewhere:example.org");
    CHECK(parseMatrixLink("https://matrix.to/#/%23somewhere%3Aexample.org") == alias);
    CHECK(parseMatrixLink("https://matrix.to/#/#somewhere:example.org") == alias);

    auto room = parseMatrixLink("https://matrix.to/#/!somewhere:example.org?via=elsewhere.ca");
    REQUIRE(room);
    CHECK(room->kind == MatrixLinkKind::RoomId);
    CHECK(room->via == std::vector<std::string>{"elsewhere.ca"});
    CHECK(parseMatrixLink("https://matrix.to/#/%21somewhere%3Aexample.org?via=elsewhere.ca") == room);

    auto event = parseMatrixLink(
        "https://matrix.to/#/%21somewhere%3Aexample.org/%24event%3Aexample.org?via=elsewhere.ca");
    REQUIRE(event);
    CHECK(event->kind == MatrixLinkKind::Event);
    CHECK(event->id == "!somewhere:example.org");
    CHECK(event->eventId == "$event:example.org");

    auto user = parseMatrixLink("https://matrix.to/#/%40alice%3Aexample.org");
    REQUIRE(user);
    CHECK(user->kind == MatrixLinkKind::User);
    CHECK(user->id == "@alice:example.org");
}

TEST_CASE("the spec's matrix: URI examples are read like their matrix.to forms") {
    auto alias = parseMatrixLink("matrix:r/somewhere:example.org");
    REQUIRE(alias);
    CHECK(alias->id == "#somewhere:example.org");
    auto room = parseMatrixLink("matrix:roomid/somewhere:example.org?via=elsewhere.ca");
    REQUIRE(room);
    CHECK(*room == *parseMatrixLink("https://matrix.to/#/!somewhere:example.org?via=elsewhere.ca"));
    auto event = parseMatrixLink("matrix:roomid/somewhere:example.org/e/event?via=elsewhere.ca");
    REQUIRE(event);
    CHECK(event->kind == MatrixLinkKind::Event);
    CHECK(event->eventId == "$event");
    auto user = parseMatrixLink("matrix:u/alice:example.org?action=chat");
    REQUIRE(user);
    CHECK(user->id == "@alice:example.org");
    CHECK(parseMatrixLink("matrix:user/alice:example.org") == user);
}

TEST_CASE("links that are not to a Matrix user, room or event are not pills") {
    CHECK_FALSE(parseMatrixLink("https://example.org/#/@alice:example.org"));
    CHECK_FALSE(parseMatrixLink("https://matrix.to/#/"));
    CHECK_FALSE(parseMatrixLink("https://matrix.to/#/alice:example.org"));
    CHECK_FALSE(parseMatrixLink("https://matrix.to/#/@alice"));
    CHECK_FALSE(parseMatrixLink("https://matrix.to/#/@alice:example.org/$event"));
    CHECK_FALSE(parseMatrixLink("https://matrix.to/#/%40al%0Aice%3Aexample.org"));
    CHECK_FALSE(parseMatrixLink("matrix:x/alice:example.org"));
    CHECK_FALSE(parseMatrixLink("matrix:u/"));
}

TEST_CASE("matrix.to links are written percent-encoded as the spec requires") {
    CHECK(matrixToUrl({.kind = MatrixLinkKind::RoomAlias, .id = "#somewhere:example.org", .eventId = {}, .via = {}}) ==
          "https://matrix.to/#/%23somewhere:example.org");
    CHECK(matrixToUrl({.kind = MatrixLinkKind::Event,
                       .id = "!somewhere:example.org",
                       .eventId = "$event:example.org",
                       .via = {"elsewhere.ca"}}) ==
          "https://matrix.to/#/!somewhere:example.org/$event:example.org?via=elsewhere.ca");
    CHECK(matrixToUrl({.kind = MatrixLinkKind::User, .id = "@a/b?c:e.org", .eventId = {}, .via = {}}) ==
          "https://matrix.to/#/@a%2Fb%3Fc:e.org");
}

TEST_CASE("a user pill is escaped and shows the user id when there is no display name") {
    CHECK(userPillHtml("@alice:example.org", "Alice") ==
          "<a href=\"https://matrix.to/#/@alice:example.org\">Alice</a>");
    CHECK(userPillHtml("@bob:example.org", "") == "<a href=\"https://matrix.to/#/@bob:example.org\">@bob:example.org</a>");
    CHECK(userPillHtml("@x:e.org", "<script>") == "<a href=\"https://matrix.to/#/@x:e.org\">&lt;script&gt;</a>");
}
