// The outer wrapper of what Slack delivers through the Events API, over HTTP or inside a
// Socket Mode envelope: a url_verification challenge, an event_callback carrying one event,
// or app_rate_limited. Parsing refuses anything the bridge could not later key, store or
// dedupe safely (a missing or odd event_id, an event without a type, deep nesting), with a
// message saying what was wrong; it never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace mxbridge::slack {

// Sent once when the operator enters the Request URL; answered with the challenge.
struct UrlVerification {
    std::string challenge;
    bool operator==(const UrlVerification&) const = default;
};

// One event. event_id is the same on every redelivery of it, which is what dedupe keys on.
struct EventCallback {
    std::string eventId;    // "Ev…"
    std::string teamId;     // the workspace the event happened in
    std::string apiAppId;
    int64_t eventTime = 0;  // Unix seconds
    std::string eventType;  // event.type, e.g. "message", "reaction_added"
    nlohmann::json event;   // the inner event object, as delivered
    bool operator==(const EventCallback&) const = default;
};

// Slack stopped delivering for a minute because the app fell behind (more than 30,000
// events an hour per workspace); what it held back in that minute is not redelivered.
struct AppRateLimited {
    std::string teamId;
    int64_t minuteRateLimited = 0;  // Unix seconds of the minute's start
    bool operator==(const AppRateLimited&) const = default;
};

struct EnvelopeError {
    std::string message;
    bool operator==(const EnvelopeError&) const = default;
};

using Envelope = std::variant<EnvelopeError, UrlVerification, EventCallback, AppRateLimited>;

struct EnvelopeLimits {
    // Slack's own events nest a few levels (blocks in rich_text in attachments); this is far
    // past them and keeps a hostile body from costing more than its size.
    std::size_t maxDepth = 64;
};

// Whether `text` nests objects and arrays at most `maxDepth` deep (counted outside strings,
// without parsing): checked before a parser sees a body.
bool withinNestingDepth(std::string_view text, std::size_t maxDepth);

// Parses one envelope from its JSON text.
Envelope parseEnvelope(std::string_view body, const EnvelopeLimits& limits = {});
// The same from an already parsed object (a Socket Mode envelope's "payload").
Envelope envelopeFromJson(const nlohmann::json& payload);
// The JSON Slack would send for `envelope` (not for an EnvelopeError): what the Slack double
// delivers, and how the inbox stores an event until it is bridged.
nlohmann::json envelopeToJson(const Envelope& envelope);

// An event_id, team id or app id the bridge accepts: 1 to 64 ASCII letters, digits, '_' or
// '-', so it can be a store key and a log field as it is.
bool isSafeSlackId(std::string_view id);

}  // namespace mxbridge::slack
