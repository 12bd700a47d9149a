// What each kind of Web API answer means for the caller and what the sender is told.
#include <doctest/doctest.h>

#include "mxbridge/slack/web_api.h"

using namespace mxbridge::slack;

TEST_CASE("form encoding escapes everything but unreserved characters, UTF-8 byte by byte") {
    CHECK(formEncode({{"channel", "C0CHAN001"}, {"text", "a b&c=d/é"}}) ==
          "channel=C0CHAN001&text=a%20b%26c%3Dd%2F%C3%A9");
    CHECK(formEncode({}).empty());
}

TEST_CASE("ok: true is success and keeps the body") {
    WebApiAnswer answer = classifyAnswer(200, "", R"({"ok":true,"channel":"C1","ts":"1.2"})");
    CHECK(answer.ok());
    CHECK(answer.body.at("ts") == "1.2");
}

TEST_CASE("429 waits what Retry-After says, a minute when it says nothing usable") {
    WebApiAnswer limited = classifyAnswer(429, "7", R"({"ok":false,"error":"ratelimited"})");
    REQUIRE(limited.failure);
    CHECK(limited.failure->kind == FailureKind::RateLimited);
    CHECK(limited.failure->retryAfter == std::chrono::seconds(7));
    CHECK(classifyAnswer(429, "", "").failure->retryAfter == std::chrono::seconds(60));
    CHECK(classifyAnswer(429, "Wed, 21 Oct 2015 07:28:00 GMT", "").failure->retryAfter == std::chrono::seconds(60));
}

TEST_CASE("trouble on Slack's side or the network is retryable") {
    CHECK(classifyAnswer(0, "", "").failure->kind == FailureKind::Retryable);
    CHECK(classifyAnswer(503, "", "<html>").failure->kind == FailureKind::Retryable);
    CHECK(classifyAnswer(200, "", R"({"ok":false,"error":"internal_error"})").failure->kind == FailureKind::Retryable);
}

TEST_CASE("a dead token is bad credentials, whichever way Slack says it") {
    for (const char* code : {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}) {
        CAPTURE(code);
        std::string body = std::string(R"({"ok":false,"error":")") + code + "\"}";
        CHECK(classifyAnswer(200, "", body).failure->kind == FailureKind::BadCredentials);
    }
}

TEST_CASE("a missing scope names the scope and what to do") {
    WebApiAnswer answer = classifyAnswer(
        200, "", R"({"ok":false,"error":"missing_scope","needed":"chat:write.customize","provided":"chat:write"})");
    REQUIRE(answer.failure);
    CHECK(answer.failure->kind == FailureKind::MissingScope);
    CHECK(answer.failure->neededScope == "chat:write.customize");
    CHECK(answer.failure->message.find("chat:write.customize") != std::string::npos);
    CHECK(answer.failure->message.find("reinstall") != std::string::npos);
}

TEST_CASE("refusals that will never succeed are permanent and say why in words") {
    WebApiAnswer answer = classifyAnswer(200, "", R"({"ok":false,"error":"not_in_channel"})");
    CHECK(answer.failure->kind == FailureKind::Permanent);
    CHECK(answer.failure->message.find("/invite") != std::string::npos);
    WebApiAnswer unknown = classifyAnswer(200, "", R"({"ok":false,"error":"brand_new_error"})");
    CHECK(unknown.failure->kind == FailureKind::Permanent);
    CHECK(unknown.failure->message.find("brand_new_error") != std::string::npos);
    CHECK(classifyAnswer(200, "", "not json").failure->kind == FailureKind::Permanent);
    CHECK(classifyAnswer(404, "", "").failure->kind == FailureKind::Permanent);
}

TEST_CASE("missing scopes are read off the x-oauth-scopes header") {
    CHECK(missingScopes("chat:write, users:read,channels:history", {"chat:write", "users:read"}).empty());
    CHECK(missingScopes("chat:write", {"chat:write", "chat:write.customize", "users:read"}) ==
          std::vector<std::string>{"chat:write.customize", "users:read"});
    CHECK(missingScopes("", {"chat:write"}) == std::vector<std::string>{"chat:write"});
}
