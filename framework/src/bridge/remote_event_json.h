// RemoteEvents and room creations as JSON, for what PortalManager keeps in the database
// while a portal is being created (store/sqlite_portal_wait_store.h): read back after a
// restart exactly as the bridge queued them.
#pragma once

#include <nlohmann/json.hpp>

#include "mxbridge/intent.h"
#include "mxbridge/remote_events.h"

namespace mxbridge::detail {

// The name of each RemoteEvent alternative, in variant order: its "type" in the JSON, and
// PortalManager's metric label and log field.
inline constexpr const char* kRemoteEventTypes[] = {"message",     "edit",         "redaction",
                                                    "reaction",    "membership",   "room_update",
                                                    "power_levels", "typing",      "profile"};
static_assert(std::size(kRemoteEventTypes) == std::variant_size_v<RemoteEvent>);

// Media bytes are base64 in the JSON. Text is UTF-8 (Matrix allows nothing else); whoever
// dumps the JSON replaces invalid sequences, as the outbox does for what it sends.
nlohmann::json remoteEventToJson(const RemoteEvent& event);
// Throws std::runtime_error (or nlohmann::json::exception) on JSON not made by the above.
RemoteEvent remoteEventFromJson(const nlohmann::json& json);

nlohmann::json roomCreationToJson(const RoomCreation& creation);
RoomCreation roomCreationFromJson(const nlohmann::json& json);

}  // namespace mxbridge::detail
