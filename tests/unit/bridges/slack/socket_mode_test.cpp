// Socket Mode frames as Slack sends them (shapes from Slack's Java SDK tests) and the ack.
#include <doctest/doctest.h>

#include "mxbridge/slack/socket_mode.h"

using namespace mxbridge::slack;

TEST_CASE("hello says how many sockets the app has open") {
    SocketFrame frame = parseSocketFrame(
        R"({"type":"hello","num_connections":2,"debug_info":{"host":"applink-1","build_number":9,"approximate_connection_time":18060},"connection_info":{"app_id":"A111"}})");
    REQUIRE(std::holds_alternative<SocketHello>(frame));
    CHECK(std::get<SocketHello>(frame).numConnections == 2);
    CHECK(std::get<SocketHello>(frame).appId == "A111");
}

TEST_CASE("an events_api envelope carries the Events API payload and its retry count") {
    SocketFrame frame = parseSocketFrame(R"({"envelope_id":"xxx-11-222","type":"events_api",
        "payload":{"type":"event_callback","team_id":"T111","event_id":"Ev01ERKCFKK9","event_time":1605853844,
                   "event":{"type":"app_mention","text":"<@U222> hey","user":"U111","channel":"C111","ts":"1605853844.000800"}},
        "accepts_response_payload":false,"retry_attempt":2,"retry_reason":"timeout"})");
    REQUIRE(std::holds_alternative<SocketEnvelope>(frame));
    const auto& envelope = std::get<SocketEnvelope>(frame);
    CHECK(envelope.envelopeId == "xxx-11-222");
    CHECK(envelope.retryAttempt == 2);
    CHECK(envelope.retryReason == "timeout");
    REQUIRE(std::holds_alternative<EventCallback>(envelope.payload));
    CHECK(std::get<EventCallback>(envelope.payload).eventId == "Ev01ERKCFKK9");
    CHECK(socketAck(envelope.envelopeId) == R"({"envelope_id":"xxx-11-222"})");
}

TEST_CASE("other envelopes are still envelopes to acknowledge") {
    SocketFrame frame = parseSocketFrame(R"({"envelope_id":"e2","type":"slash_commands","payload":{},"accepts_response_payload":true})");
    REQUIRE(std::holds_alternative<SocketEnvelope>(frame));
    CHECK(std::holds_alternative<EnvelopeError>(std::get<SocketEnvelope>(frame).payload));
}

TEST_CASE("a disconnect names its reason; broken frames say what is wrong") {
    SocketFrame frame = parseSocketFrame(R"({"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"h"}})");
    REQUIRE(std::holds_alternative<SocketDisconnect>(frame));
    CHECK(std::get<SocketDisconnect>(frame).reason == "refresh_requested");
    CHECK(std::get<SocketFrameError>(parseSocketFrame("not json")).message == "the frame is not a JSON object");
    CHECK(std::get<SocketFrameError>(parseSocketFrame(R"({"type":"events_api"})")).message ==
          "a frame without an envelope_id");
    CHECK(std::holds_alternative<SocketFrameError>(parseSocketFrame(std::string(10000, '['))));
}
