// Links to Matrix users, rooms and events (appendices, "Matrix URIs" and "matrix.to
// navigation"): what clients render as pills, and what a bridge writes to mention someone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxbridge::format {

enum class MatrixLinkKind { User, RoomAlias, RoomId, Event };

struct MatrixLink {
    MatrixLinkKind kind = MatrixLinkKind::User;
    // With its sigil, percent-decoded: "@alice:example.org", "#room:example.org",
    // "!abc:example.org". For an Event, the room it is in.
    std::string id;
    std::string eventId;           // "$event", for kind Event only
    std::vector<std::string> via;  // ?via= servers, in order

    bool operator==(const MatrixLink&) const = default;
};

// Reads https://matrix.to/#/<id>[/<event>][?via=...] (encoded or not, as the spec asks
// readers to accept) and matrix:u/..., matrix:r/..., matrix:roomid/...[/e/...] (and the
// older user/room/event types). Anything else, or an id without its sigil's shape, is nullopt.
std::optional<MatrixLink> parseMatrixLink(std::string_view href);

// The matrix.to form, percent-encoded as the spec requires ("#" in an alias becomes %23).
std::string matrixToUrl(const MatrixLink& link);

// A user pill: <a href="https://matrix.to/#/@alice:example.org">Alice</a>, escaped, the
// user id shown when `displayName` is empty (the spec's mention guideline).
std::string userPillHtml(std::string_view userId, std::string_view displayName);

}  // namespace mxbridge::format
