// Socket Mode's frames: what Slack sends over the websocket (hello, envelopes carrying what
// the Events API would have posted, disconnect warnings) and the acknowledgement the app
// sends back for each envelope. Slack redelivers an envelope that is not acknowledged in
// time, with retry_attempt counting up; the event inside keeps its event_id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "mxbridge/slack/event_envelope.h"

namespace mxbridge::slack {

struct SocketHello {
    int numConnections = 0;
    std::string appId{};
};

// Any envelope: events_api ones carry an event, the others (interactive, slash_commands)
// only need their acknowledgement.
struct SocketEnvelope {
    std::string envelopeId{};
    std::string type{};  // "events_api", "interactive", "slash_commands", …
    Envelope payload = EnvelopeError{"not an events_api envelope"};  // for events_api
    int retryAttempt = 0;
    std::string retryReason{};
};

// Slack will close this socket soon: "warning" (in about ten seconds), "refresh_requested",
// or "too_many_websockets".
struct SocketDisconnect {
    std::string reason;
};

struct SocketFrameError {
    std::string message;
};

using SocketFrame = std::variant<SocketFrameError, SocketHello, SocketEnvelope, SocketDisconnect>;

SocketFrame parseSocketFrame(std::string_view text);

// {"envelope_id": "<id>"}: the acknowledgement of one envelope.
std::string socketAck(std::string_view envelopeId);

}  // namespace mxbridge::slack
