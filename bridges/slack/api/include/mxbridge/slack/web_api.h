// The Web API's request encoding and what an answer means for the caller. Slack answers HTTP
// 200 with {"ok": false, "error": "<code>"} for most failures, 429 with Retry-After when a
// method's rate limit is hit, and 5xx when it is having trouble; callers need to know which
// ones to retry, which ones to tell the sender about, and which ones mean the token is dead.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxbridge::slack {

using WebApiArgs = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded, every byte outside [A-Za-z0-9-._~] percent-encoded.
std::string formEncode(const WebApiArgs& args);

enum class FailureKind {
    RateLimited,     // 429: wait Retry-After, then send the same call again
    Retryable,       // Slack or the network had trouble: retry with back-off
    BadCredentials,  // the token is invalid, revoked, expired, or its account gone
    MissingScope,    // the app lacks a scope this call needs (named in neededScope)
    Permanent,       // this call will never succeed as it is (channel gone, text too long…)
};

struct WebApiFailure {
    FailureKind kind = FailureKind::Permanent;
    std::string error{};        // Slack's code, e.g. "channel_not_found"; "http_503", "network"
    std::string message{};      // for people: what happened and what to do
    std::string neededScope{};  // for MissingScope: Slack's "needed"
    std::chrono::seconds retryAfter{0};  // for RateLimited
};

struct WebApiAnswer {
    nlohmann::json body{};                   // the parsed answer (null when it was not JSON)
    std::optional<WebApiFailure> failure{};  // nothing when ok: true
    bool ok() const { return !failure.has_value(); }
};

// Judges one HTTP answer. `status` 0 means no answer arrived (network error, time-out).
WebApiAnswer classifyAnswer(int status, std::string_view retryAfterHeader, std::string_view body);

// The words a Matrix sender is told for Slack's error `code` (and the failure kind it is).
WebApiFailure failureFor(std::string_view code, std::string_view neededScope = {});

// Scopes in an `x-oauth-scopes` header ("chat:write,users:read") missing from `required`.
std::vector<std::string> missingScopes(std::string_view grantedHeader, const std::vector<std::string>& required);

}  // namespace mxbridge::slack
