// Turns a raw Matrix event into the typed hook a connector implements (MatrixMessage,
// MatrixEdit, …), and answers for the hooks it does not: the connector never reads Matrix
// JSON, and an edit sent to a bridge without edits comes back as "unsupported", which the
// runtime tells the sender.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bridge/member_names.h"
#include "mxbridge/connector.h"

namespace mxbridge::detail {

class EventRouter {
public:
    struct Deps {
        Connector& connector;
        UserId bot;
        std::function<std::vector<RemoteRoomId>(const RoomId&)> remotesFor;
        std::function<std::optional<RemoteMessageId>(const EventId&)> remoteFor;
        std::function<bool(const UserId&)> isGhost;
        // A "!command" in a room with no links (a DM with the bot). Returns true if handled.
        std::function<bool(const UserId& sender, const RoomId& room, const std::string& body)>
            command;
        // The bot was invited somewhere (a user opening a DM with it).
        std::function<void(const RoomId& room, const UserId& inviter)> botInvited;
        // Display names for MatrixMessage::senderName; null: the sender's localpart.
        MemberNames* memberNames = nullptr;
        // Any message in a room with no links (a DM with the bot), before it is read as a
        // command: an answer to a login's question. Returns true if it was taken.
        std::function<bool(const UserId& sender, const RoomId& room, const EventId& event, const std::string& body)>
            directMessage = nullptr;
        // Records that `event` is known on `remote` as `id`: a hook answered delivered(id),
        // which HookResult promises maps later edits, replies and reactions to it. Called
        // inside the hook's write scope, so the mapping commits with the event's done mark.
        std::function<void(const RoomId&, const EventId&, const RemoteRoomId&, const RemoteMessageId&)> mapDelivered = nullptr;
    };

    explicit EventRouter(Deps deps);

    HookResult route(const MatrixEvent& event);

private:
    HookResult routeTimeline(const MatrixEvent& event);
    HookResult routeEphemeral(const MatrixEvent& event);
    HookResult routeMembership(const MatrixEvent& event);
    HookResult routeMessage(const MatrixEvent& event, std::vector<RemoteRoomId> remotes);

    Deps deps_;
    EditHandler* edits_;
    RedactionHandler* redactions_;
    ReactionHandler* reactions_;
    TypingHandler* typing_;
    ReceiptHandler* receipts_;
    PresenceHandler* presence_;
};

}  // namespace mxbridge::detail
