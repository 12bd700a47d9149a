#include "mxbridge/slack/event_envelope.h"

namespace mxbridge::slack {

namespace {

// The deepest nesting of objects and arrays in `text`, counted outside strings; stops
// counting once past `limit`. Run before parsing so a body of 100,000 '[' never reaches the
// JSON parser (whose error and destruction paths would otherwise do the work).
std::size_t nestingDepth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool inString = false;
    bool escaped = false;
    for (char c : text) {
        if (inString) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) return deepest;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

const nlohmann::json* member(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string stringMember(const nlohmann::json& object, const char* key) {
    const nlohmann::json* value = member(object, key);
    return value && value->is_string() ? value->get<std::string>() : std::string();
}

Envelope parseEventCallback(const nlohmann::json& payload) {
    EventCallback callback;
    callback.eventId = stringMember(payload, "event_id");
    if (!isSafeSlackId(callback.eventId))
        return EnvelopeError{"event_callback without a usable event_id"};
    callback.teamId = stringMember(payload, "team_id");
    if (!callback.teamId.empty() && !isSafeSlackId(callback.teamId))
        return EnvelopeError{"event_callback with a malformed team_id"};
    callback.apiAppId = stringMember(payload, "api_app_id");
    if (!callback.apiAppId.empty() && !isSafeSlackId(callback.apiAppId))
        return EnvelopeError{"event_callback with a malformed api_app_id"};
    const nlohmann::json* time = member(payload, "event_time");
    if (time && time->is_number_integer()) callback.eventTime = time->get<int64_t>();
    const nlohmann::json* event = member(payload, "event");
    if (!event || !event->is_object()) return EnvelopeError{"event_callback without an event object"};
    callback.eventType = stringMember(*event, "type");
    if (callback.eventType.empty()) return EnvelopeError{"event_callback whose event has no type"};
    callback.event = *event;
    return callback;
}

}  // namespace

bool withinNestingDepth(std::string_view text, std::size_t maxDepth) {
    return nestingDepth(text, maxDepth) <= maxDepth;
}

bool isSafeSlackId(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Envelope envelopeFromJson(const nlohmann::json& payload) {
    if (!payload.is_object()) return EnvelopeError{"the envelope is not a JSON object"};
    std::string type = stringMember(payload, "type");
    if (type == "event_callback") return parseEventCallback(payload);
    if (type == "url_verification") {
        const nlohmann::json* challenge = member(payload, "challenge");
        if (!challenge || !challenge->is_string() || challenge->get<std::string>().empty())
            return EnvelopeError{"url_verification without a challenge"};
        return UrlVerification{challenge->get<std::string>()};
    }
    if (type == "app_rate_limited") {
        AppRateLimited limited{.teamId = stringMember(payload, "team_id")};
        const nlohmann::json* minute = member(payload, "minute_rate_limited");
        if (minute && minute->is_number_integer()) limited.minuteRateLimited = minute->get<int64_t>();
        return limited;
    }
    if (type.empty()) return EnvelopeError{"the envelope has no type"};
    if (!isSafeSlackId(type)) return EnvelopeError{"unknown envelope type"};
    return EnvelopeError{"unknown envelope type \"" + type + "\""};
}

Envelope parseEnvelope(std::string_view body, const EnvelopeLimits& limits) {
    if (!withinNestingDepth(body, limits.maxDepth))
        return EnvelopeError{"the body nests deeper than " + std::to_string(limits.maxDepth) + " levels"};
    nlohmann::json payload = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (payload.is_discarded()) return EnvelopeError{"the body is not JSON (or not UTF-8)"};
    return envelopeFromJson(payload);
}

nlohmann::json envelopeToJson(const Envelope& envelope) {
    struct Writer {
        nlohmann::json operator()(const EnvelopeError&) const { return nullptr; }
        nlohmann::json operator()(const UrlVerification& v) const {
            return {{"type", "url_verification"}, {"challenge", v.challenge}};
        }
        nlohmann::json operator()(const EventCallback& c) const {
            nlohmann::json out = {{"type", "event_callback"}, {"event_id", c.eventId},
                                  {"event_time", c.eventTime}, {"event", c.event}};
            if (!c.teamId.empty()) out["team_id"] = c.teamId;
            if (!c.apiAppId.empty()) out["api_app_id"] = c.apiAppId;
            return out;
        }
        nlohmann::json operator()(const AppRateLimited& l) const {
            return {{"type", "app_rate_limited"}, {"team_id", l.teamId},
                    {"minute_rate_limited", l.minuteRateLimited}};
        }
    };
    return std::visit(Writer{}, envelope);
}

}  // namespace mxbridge::slack
