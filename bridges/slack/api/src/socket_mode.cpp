#include "mxbridge/slack/socket_mode.h"

namespace mxbridge::slack {

namespace {

std::string stringOf(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

SocketFrame parseSocketFrame(std::string_view text) {
    // The same depth guard as an Events API body, since a frame carries one.
    if (!withinNestingDepth(text, EnvelopeLimits{}.maxDepth))
        return SocketFrameError{"the frame nests deeper than " + std::to_string(EnvelopeLimits{}.maxDepth) + " levels"};
    nlohmann::json frame = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!frame.is_object()) return SocketFrameError{"the frame is not a JSON object"};
    std::string type = stringOf(frame, "type");
    if (type == "hello") {
        SocketHello hello;
        if (auto n = frame.find("num_connections"); n != frame.end() && n->is_number_integer())
            hello.numConnections = n->get<int>();
        if (auto info = frame.find("connection_info"); info != frame.end() && info->is_object())
            hello.appId = stringOf(*info, "app_id");
        return hello;
    }
    if (type == "disconnect") return SocketDisconnect{stringOf(frame, "reason")};
    std::string envelopeId = stringOf(frame, "envelope_id");
    if (envelopeId.empty()) {
        if (type.empty()) return SocketFrameError{"the frame has no type"};
        return SocketFrameError{"a frame without an envelope_id"};
    }
    if (envelopeId.size() > 128) return SocketFrameError{"an envelope_id longer than 128 bytes"};
    SocketEnvelope envelope{.envelopeId = envelopeId, .type = type};
    if (auto attempt = frame.find("retry_attempt"); attempt != frame.end() && attempt->is_number_integer())
        envelope.retryAttempt = attempt->get<int>();
    envelope.retryReason = stringOf(frame, "retry_reason");
    if (type == "events_api") {
        auto payload = frame.find("payload");
        envelope.payload = payload == frame.end() ? Envelope(EnvelopeError{"events_api envelope without a payload"})
                                                  : envelopeFromJson(*payload);
    }
    return envelope;
}

std::string socketAck(std::string_view envelopeId) {
    return nlohmann::json{{"envelope_id", std::string(envelopeId)}}.dump();
}

}  // namespace mxbridge::slack
