#include "mxbridge/slack/web_api.h"

#include <charconv>
#include <set>

#include "mxbridge/format/percent_encoding.h"

namespace mxbridge::slack {

namespace {

struct KnownError {
    std::string_view code;
    FailureKind kind;
    std::string_view message;
};

// Slack's error codes the bridge meets, from the methods' documentation; anything else is
// permanent with Slack's code as the message, so nothing is retried forever.
constexpr KnownError kKnownErrors[] = {
    {"invalid_auth", FailureKind::BadCredentials, "the Slack token is not valid"},
    {"not_authed", FailureKind::BadCredentials, "no Slack token was sent"},
    {"token_revoked", FailureKind::BadCredentials, "the Slack token was revoked (the app was removed or reinstalled)"},
    {"token_expired", FailureKind::BadCredentials, "the Slack token expired"},
    {"account_inactive", FailureKind::BadCredentials, "the Slack account behind the token was deactivated"},
    {"no_permission", FailureKind::Permanent, "the Slack token may not do this"},
    {"channel_not_found", FailureKind::Permanent, "the Slack channel does not exist or the app cannot see it"},
    {"not_in_channel", FailureKind::Permanent,
     "the Slack app is not in this channel: invite it there (/invite @the-app)"},
    {"is_archived", FailureKind::Permanent, "the Slack channel is archived"},
    {"msg_too_long", FailureKind::Permanent, "the message is too long for Slack"},
    {"no_text", FailureKind::Permanent, "Slack refused a message without text"},
    {"restricted_action", FailureKind::Permanent, "the workspace's settings do not allow this"},
    {"restricted_action_read_only_channel", FailureKind::Permanent, "the Slack channel is read-only"},
    {"cant_update_message", FailureKind::Permanent, "Slack does not let the app edit this message"},
    {"cant_delete_message", FailureKind::Permanent, "Slack does not let the app delete this message"},
    {"message_not_found", FailureKind::Permanent, "the Slack message is gone"},
    {"edit_window_closed", FailureKind::Permanent, "the message is too old to edit on Slack"},
    {"user_not_found", FailureKind::Permanent, "the Slack user does not exist"},
    {"invalid_arguments", FailureKind::Permanent, "Slack refused the request's arguments"},
    {"invalid_arg_name", FailureKind::Permanent, "Slack refused an argument's name"},
    {"method_deprecated", FailureKind::Permanent, "Slack retired this method"},
    {"ratelimited", FailureKind::RateLimited, "Slack's rate limit was hit"},
    {"internal_error", FailureKind::Retryable, "Slack had an internal error"},
    {"fatal_error", FailureKind::Retryable, "Slack had an internal error"},
    {"service_unavailable", FailureKind::Retryable, "Slack is unavailable"},
    {"request_timeout", FailureKind::Retryable, "Slack timed out"},
};

std::chrono::seconds parseRetryAfter(std::string_view header) {
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
    // An absent or unreadable value (an HTTP date) waits a minute: Slack's limits are per minute.
    if (ec != std::errc() || seconds < 0) return std::chrono::seconds(60);
    return std::chrono::seconds(std::min<int64_t>(seconds, 3600));
}

}  // namespace

std::string formEncode(const WebApiArgs& args) {
    std::string out;
    for (const auto& [name, value] : args) {
        if (!out.empty()) out.push_back('&');
        out += format::percentEncode(name);
        out.push_back('=');
        out += format::percentEncode(value);
    }
    return out;
}

WebApiFailure failureFor(std::string_view code, std::string_view neededScope) {
    if (code == "missing_scope") {
        std::string scope = neededScope.empty() ? std::string("(Slack did not say which)") : std::string(neededScope);
        return WebApiFailure{.kind = FailureKind::MissingScope,
                             .error = "missing_scope",
                             .message = "the Slack app lacks the scope " + scope +
                                        ": add it under OAuth & Permissions and reinstall the app",
                             .neededScope = std::string(neededScope)};
    }
    for (const auto& known : kKnownErrors)
        if (known.code == code)
            return WebApiFailure{.kind = known.kind, .error = std::string(code), .message = std::string(known.message)};
    return WebApiFailure{.kind = FailureKind::Permanent,
                         .error = std::string(code),
                         .message = "Slack refused it (" + std::string(code) + ")"};
}

WebApiAnswer classifyAnswer(int status, std::string_view retryAfterHeader, std::string_view body) {
    WebApiAnswer answer;
    answer.body = nlohmann::json::parse(body, nullptr, false);
    if (answer.body.is_discarded()) answer.body = nullptr;
    if (status == 0) {
        answer.failure = WebApiFailure{.kind = FailureKind::Retryable, .error = "network",
                                       .message = "Slack could not be reached"};
        return answer;
    }
    if (status == 429) {
        WebApiFailure failure = failureFor("ratelimited");
        failure.retryAfter = parseRetryAfter(retryAfterHeader);
        answer.failure = failure;
        return answer;
    }
    if (status >= 500) {
        answer.failure = WebApiFailure{.kind = FailureKind::Retryable, .error = "http_" + std::to_string(status),
                                       .message = "Slack answered HTTP " + std::to_string(status)};
        return answer;
    }
    if (!answer.body.is_object() || !answer.body.contains("ok") || !answer.body["ok"].is_boolean()) {
        answer.failure = WebApiFailure{.kind = FailureKind::Permanent, .error = "http_" + std::to_string(status),
                                       .message = "Slack's answer was not a Web API answer (HTTP " +
                                                  std::to_string(status) + ")"};
        return answer;
    }
    if (answer.body["ok"].get<bool>()) return answer;
    std::string code = answer.body.value("error", std::string("unknown_error"));
    std::string needed = answer.body.value("needed", std::string());
    answer.failure = failureFor(code, needed);
    return answer;
}

std::vector<std::string> missingScopes(std::string_view grantedHeader, const std::vector<std::string>& required) {
    std::set<std::string, std::less<>> granted;
    while (!grantedHeader.empty()) {
        std::size_t comma = grantedHeader.find(',');
        std::string_view scope = grantedHeader.substr(0, comma);
        while (!scope.empty() && scope.front() == ' ') scope.remove_prefix(1);
        while (!scope.empty() && scope.back() == ' ') scope.remove_suffix(1);
        if (!scope.empty()) granted.emplace(scope);
        if (comma == std::string_view::npos) break;
        grantedHeader.remove_prefix(comma + 1);
    }
    std::vector<std::string> missing;
    for (const auto& scope : required)
        if (!granted.count(scope)) missing.push_back(scope);
    return missing;
}

}  // namespace mxbridge::slack
