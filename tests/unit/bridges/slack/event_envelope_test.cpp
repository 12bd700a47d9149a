// The Events API wrapper: what is accepted, and that everything else is refused with a reason.
#include <doctest/doctest.h>

#include "mxbridge/slack/event_envelope.h"

using namespace mxbridge::slack;

namespace {

// A channel message as the Events API delivers it (field names from Slack's samples).
constexpr const char* kMessage = R"({
  "token": "ignored-verification-token",
  "team_id": "T0TEAM001", "api_app_id": "A0APP0001", "type": "event_callback",
  "event": {"type": "message", "channel": "C0CHAN001", "user": "U0USER001",
            "text": "hello *world*", "ts": "1700000000.000100", "team": "T0TEAM001"},
  "event_id": "Ev0MSG0001", "event_time": 1700000000,
  "authorizations": [{"enterprise_id": null, "team_id": "T0TEAM001", "user_id": "U0BOT0001",
                      "is_bot": true, "is_enterprise_install": false}],
  "is_ext_shared_channel": false, "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ"
})";

template <typename T>
T as(const Envelope& envelope) {
    REQUIRE_MESSAGE(std::holds_alternative<T>(envelope),
                    (std::holds_alternative<EnvelopeError>(envelope) ? std::get<EnvelopeError>(envelope).message
                                                                       : std::string("another kind")));
    return std::get<T>(envelope);
}

std::string errorOf(std::string_view body) {
    Envelope envelope = parseEnvelope(body);
    REQUIRE(std::holds_alternative<EnvelopeError>(envelope));
    return std::get<EnvelopeError>(envelope).message;
}

}  // namespace

TEST_CASE("an event_callback gives the event id, workspace, time, type and the event itself") {
    const auto& callback = as<EventCallback>(parseEnvelope(kMessage));
    CHECK(callback.eventId == "Ev0MSG0001");
    CHECK(callback.teamId == "T0TEAM001");
    CHECK(callback.apiAppId == "A0APP0001");
    CHECK(callback.eventTime == 1700000000);
    CHECK(callback.eventType == "message");
    CHECK(callback.event.at("text") == "hello *world*");
}

TEST_CASE("url_verification gives the challenge to answer") {
    const auto& verification = as<UrlVerification>(parseEnvelope(
        R"({"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})"));
    CHECK(verification.challenge == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    CHECK(errorOf(R"({"type":"url_verification"})") == "url_verification without a challenge");
}

TEST_CASE("app_rate_limited says which minute was held back") {
    const auto& limited = as<AppRateLimited>(parseEnvelope(
        R"({"token":"t","type":"app_rate_limited","team_id":"T0TEAM001","minute_rate_limited":1518467820,"api_app_id":"A0APP0001"})"));
    CHECK(limited.teamId == "T0TEAM001");
    CHECK(limited.minuteRateLimited == 1518467820);
}

TEST_CASE("bodies the bridge cannot key or bridge are refused with the reason") {
    CHECK(errorOf("") == "the body is not JSON (or not UTF-8)");
    CHECK(errorOf("token=abc&team_id=T1") == "the body is not JSON (or not UTF-8)");
    CHECK(errorOf("{\"type\":\"event_callback\",\"x\":\"\xff\"}") == "the body is not JSON (or not UTF-8)");
    CHECK(errorOf("[1,2,3]") == "the envelope is not a JSON object");
    CHECK(errorOf("{}") == "the envelope has no type");
    CHECK(errorOf(R"({"type":"block_actions"})") == "unknown envelope type \"block_actions\"");
    CHECK(errorOf(R"({"type":"<script>"})") == "unknown envelope type");
    CHECK(errorOf(R"({"type":"event_callback","event":{"type":"message"}})") ==
          "event_callback without a usable event_id");
    CHECK(errorOf(R"({"type":"event_callback","event_id":"Ev/../x","event":{"type":"message"}})") ==
          "event_callback without a usable event_id");
    CHECK(errorOf(R"({"type":"event_callback","event_id":"Ev1","event":"message"})") ==
          "event_callback without an event object");
    CHECK(errorOf(R"({"type":"event_callback","event_id":"Ev1","event":{"text":"x"}})") ==
          "event_callback whose event has no type");
    CHECK(errorOf(R"({"type":"event_callback","event_id":"Ev1","team_id":"T 1","event":{"type":"message"}})") ==
          "event_callback with a malformed team_id");
}

TEST_CASE("deep nesting is refused before the JSON parser sees it") {
    std::string deep(100000, '[');
    CHECK(errorOf(deep) == "the body nests deeper than 64 levels");
    // Brackets inside strings are text, not nesting.
    std::string quoted = R"({"type":"event_callback","event_id":"Ev1","event":{"type":"message","text":")" +
                         std::string(1000, '[') + R"("}})";
    CHECK(as<EventCallback>(parseEnvelope(quoted)).event.at("text").get<std::string>().size() == 1000);
}

TEST_CASE("an envelope written back as JSON parses to the same envelope") {
    Envelope original = parseEnvelope(kMessage);
    CHECK(envelopeFromJson(envelopeToJson(original)) == original);
    Envelope verification = UrlVerification{"abc"};
    CHECK(envelopeFromJson(envelopeToJson(verification)) == verification);
}
