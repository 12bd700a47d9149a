// Remote user ids ("ghostId", any string) as Matrix user-id localparts, with the mapping the
// spec suggests (appendices, "Mapping from other character sets"), so a bridge never has to
// care which characters a localpart may hold.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mxbridge/ids.h"

namespace mxbridge::detail {

// Longest user id the spec allows, "@" and server name included (appendices, "User
// Identifiers").
inline constexpr size_t kMaxUserIdLength = 255;

// Escapes `ghostId` into the localpart alphabet a-z 0-9 . _ = - /, reversibly: an upper-case
// letter becomes "_" plus the lower-case one ("Alice" -> "_alice", so names differing only in
// case stay apart), "_" becomes "__", and every other byte (UTF-8 included, and "=" itself)
// becomes "=" plus two lower-case hex digits ("#" -> "=23"). The empty string maps to "=".
// "+" is escaped too although newer spec versions allow it: older homeservers refuse it.
std::string escapeGhostId(std::string_view ghostId);

// The inverse of escapeGhostId; std::nullopt if `localpart` is not something it produced
// (including shortened ids, see ghostUserIdFor).
std::optional<std::string> unescapeGhostId(std::string_view localpart);

// The full ghost user id: "@" + prefix + escapeGhostId(ghostId) + suffix + ":" + server, where
// prefix and suffix are the user template around "{id}". If that would exceed 255 bytes the
// escaped part is cut (never inside an escape) and ends in "==" and 24 hex digits of the
// SHA-256 of `ghostId`: "==" never occurs in a full escape, so a shortened id cannot equal
// a full one, and the hash keeps two long names that share a beginning apart.
UserId ghostUserIdFor(std::string_view prefix, std::string_view suffix, std::string_view server,
                      std::string_view ghostId);

}  // namespace mxbridge::detail
