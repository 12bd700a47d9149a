// The Slack double refuses what Slack would, so a bridge that passes against it sends only
// requests Slack's description allows.
#include <doctest/doctest.h>

#include "slack_double.h"
#include "test_http_server.h"

using namespace mxbridge::test;

namespace {

HttpCallResult post(const SlackDouble& slack, const std::string& method, const std::string& form,
                    const std::string& token = "xoxb-0000000001-double-bot-token") {
    std::string base = slack.apiUrl();
    base = base.substr(0, base.size() - std::string("/api/").size());
    StringMap headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return httpCall(base, "POST", "/api/" + method, headers, form, std::chrono::seconds(5));
}

bool mentions(const std::vector<std::string>& violations, const std::string& text) {
    for (const auto& v : violations)
        if (v.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("a request the description allows is served and leaves no violation") {
    SlackDouble slack;
    slack.addChannel("C0CHAN001", "general");
    HttpCallResult result = post(slack, "chat.postMessage", "channel=C0CHAN001&text=hi&unfurl_links=false");
    CHECK(nlohmann::json::parse(result.body).at("ok") == true);
    CHECK(slack.violations().empty());
}

TEST_CASE("undeclared, missing and mistyped arguments are violations and refused") {
    SlackDouble slack;
    slack.addChannel("C0CHAN001", "general");
    CHECK(nlohmann::json::parse(post(slack, "chat.postMessage", "channel=C0CHAN001&text=hi&colour=red").body)
              .at("error") == "invalid_arguments");
    CHECK(mentions(slack.violations(), "undeclared argument \"colour\""));
    (void)post(slack, "chat.postMessage", "text=hi");
    CHECK(mentions(slack.violations(), "required argument \"channel\" missing"));
    (void)post(slack, "chat.postMessage", "channel=C0CHAN001&text=hi&unfurl_links=maybe");
    CHECK(mentions(slack.violations(), "\"unfurl_links\" is not a boolean"));
    CHECK(slack.posts().empty());
}

TEST_CASE("retired and unknown methods are violations") {
    SlackDouble slack;
    CHECK(nlohmann::json::parse(post(slack, "files.upload", "channels=C0CHAN001&content=x").body).at("error") ==
          "method_deprecated");
    CHECK(mentions(slack.violations(), "files.upload: retired method"));
    (void)post(slack, "chat.postMessages", "channel=C0CHAN001");
    CHECK(mentions(slack.violations(), "unknown method"));
}

TEST_CASE("methods missing from the 2020 spec are checked against the supplement") {
    SlackDouble slack;
    (void)post(slack, "files.getUploadURLExternal", "filename=a.png");
    CHECK(mentions(slack.violations(), "required argument \"length\" missing"));
    (void)post(slack, "apps.connections.open", "token=xapp-1-abc", "");
    CHECK(mentions(slack.violations(), "Authorization header only"));
}

TEST_CASE("no token, a wrong token and a revoked one are refused as Slack does") {
    SlackDouble slack;
    CHECK(nlohmann::json::parse(post(slack, "auth.test", "", "").body).at("error") == "not_authed");
    CHECK(nlohmann::json::parse(post(slack, "auth.test", "", "xoxb-wrong").body).at("error") == "invalid_auth");
    slack.revokeToken();
    CHECK(nlohmann::json::parse(post(slack, "auth.test", "").body).at("error") == "token_revoked");
    CHECK(slack.violations().empty());
}
