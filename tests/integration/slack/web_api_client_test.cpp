// The Web API client against the Slack double: what reaches Slack, in which order, and what
// the caller learns when Slack says no.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "mxbridge/slack/web_api_client.h"
#include "slack_double.h"

using namespace mxbridge::slack;
using namespace mxbridge::test;
using namespace std::chrono_literals;

namespace {

WebApiClientOptions optionsFor(const SlackDouble& slack) {
    WebApiClientOptions options;
    options.baseUrl = slack.apiUrl();
    options.token = slack.options().botToken;
    options.timeout = 5s;
    options.retryBackoff = mxbridge::BackoffOptions{.initial = 20ms, .max = 200ms};
    return options;
}

// Collects results of calls made with call(), and waits for a number of them.
class Results {
public:
    WebApiClient::Callback add(const std::string& label) {
        return [this, label](const WebApiResult& result) {
            std::lock_guard lock(mutex_);
            byLabel_[label] = result;
            order_.push_back(label);
            changed_.notify_all();
        };
    }
    bool waitFor(std::size_t count, std::chrono::seconds limit = 20s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return order_.size() >= count; });
    }
    WebApiResult at(const std::string& label) {
        std::lock_guard lock(mutex_);
        return byLabel_.at(label);
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, WebApiResult> byLabel_;
    std::vector<std::string> order_;
};

std::vector<std::string> textsIn(const SlackDouble& slack, const std::string& channel) {
    std::vector<std::string> texts;
    for (const auto& post : slack.posts())
        if (post.channel == channel) texts.push_back(post.text);
    return texts;
}

}  // namespace

TEST_CASE("auth.test names the workspace and bot, and the scopes the token lacks") {
    SlackDoubleOptions doubleOptions;
    doubleOptions.botScopes = {"chat:write", "users:read"};
    SlackDouble slack(doubleOptions);
    WebApiClient client(optionsFor(slack));
    WebApiResult result = client.callAndWait("auth.test", {});
    REQUIRE(result.answer.ok());
    CHECK(result.answer.body.at("team_id") == "T0DOUBLE1");
    CHECK(result.answer.body.at("user_id") == "U0BOTUSR1");
    CHECK(missingScopes(result.grantedScopes, {"chat:write", "chat:write.customize", "users:read"}) ==
          std::vector<std::string>{"chat:write.customize"});
    CHECK(slack.violations().empty());
}

TEST_CASE("a relayed message carries the Matrix user's name and avatar (chat:write.customize)") {
    SlackDouble slack;
    slack.addChannel("C0CHAN001", "general");
    WebApiClient client(optionsFor(slack));
    WebApiResult result = client.callAndWait(
        "chat.postMessage", {{"channel", "C0CHAN001"}, {"text", "héllo & <world>"}, {"username", "Alice (Matrix)"},
                             {"icon_url", "https://bridge.test/_mxbridge/media/abc/avatar.png"}});
    REQUIRE(result.answer.ok());
    auto posts = slack.posts();
    REQUIRE(posts.size() == 1);
    CHECK(posts[0].text == "héllo & <world>");
    CHECK(posts[0].username == "Alice (Matrix)");
    CHECK(posts[0].iconUrl == "https://bridge.test/_mxbridge/media/abc/avatar.png");
    CHECK(result.answer.body.at("ts") == posts[0].ts);
    CHECK(slack.violations().empty());
}

TEST_CASE("through a 429 storm each channel's messages arrive in order, after Retry-After") {
    SlackDouble slack;
    slack.addChannel("C0CHAN001", "general");
    slack.addChannel("C0CHAN002", "random");
    slack.rateLimit("chat.postMessage", 3, 1);
    WebApiClient client(optionsFor(slack));
    Results results;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i) {
        std::string a = "a" + std::to_string(i), b = "b" + std::to_string(i);
        client.call("chat.postMessage", {{"channel", "C0CHAN001"}, {"text", a}}, "C0CHAN001", results.add(a));
        client.call("chat.postMessage", {{"channel", "C0CHAN002"}, {"text", b}}, "C0CHAN002", results.add(b));
    }
    REQUIRE(results.waitFor(16));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= 1s);  // the 429's Retry-After: 1 held the method back
    CHECK(textsIn(slack, "C0CHAN001") == std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"});
    CHECK(textsIn(slack, "C0CHAN002") == std::vector<std::string>{"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"});
    CHECK(slack.callCount("chat.postMessage") == 16 + 3);
    for (int i = 0; i < 8; ++i) CHECK(results.at("a" + std::to_string(i)).answer.ok());
    CHECK(slack.violations().empty());
}

TEST_CASE("Slack-side trouble is retried until it passes; the message is sent once") {
    SlackDouble slack;
    slack.addChannel("C0CHAN001", "general");
    slack.failNext("chat.postMessage", "internal_error", 2);
    WebApiClient client(optionsFor(slack));
    WebApiResult result = client.callAndWait("chat.postMessage", {{"channel", "C0CHAN001"}, {"text", "hi"}});
    CHECK(result.answer.ok());
    CHECK(result.attempts == 3);
    CHECK(textsIn(slack, "C0CHAN001") == std::vector<std::string>{"hi"});
}

TEST_CASE("a refusal that will not change is reported at once, in words the sender can act on") {
    SlackDouble slack;
    slack.addChannel("C0CHAN001", "general");
    slack.failNext("chat.postMessage", "not_in_channel");
    WebApiClient client(optionsFor(slack));
    WebApiResult result = client.callAndWait("chat.postMessage", {{"channel", "C0CHAN001"}, {"text", "hi"}});
    REQUIRE(result.answer.failure);
    CHECK(result.answer.failure->kind == FailureKind::Permanent);
    CHECK(result.answer.failure->message.find("/invite") != std::string::npos);
    CHECK(result.attempts == 1);
    WebApiResult gone = client.callAndWait("chat.postMessage", {{"channel", "C0GONE001"}, {"text", "hi"}});
    CHECK(gone.answer.failure->error == "channel_not_found");
}

TEST_CASE("a revoked token and a missing scope are told apart from other failures") {
    SlackDoubleOptions doubleOptions;
    doubleOptions.botScopes = {"users:read"};
    SlackDouble slack(doubleOptions);
    slack.addChannel("C0CHAN001", "general");
    WebApiClient client(optionsFor(slack));
    WebApiResult noScope = client.callAndWait("chat.postMessage", {{"channel", "C0CHAN001"}, {"text", "hi"}});
    REQUIRE(noScope.answer.failure);
    CHECK(noScope.answer.failure->kind == FailureKind::MissingScope);
    CHECK(noScope.answer.failure->neededScope == "chat:write");
    slack.revokeToken();
    WebApiResult revoked = client.callAndWait("auth.test", {});
    CHECK(revoked.answer.failure->kind == FailureKind::BadCredentials);
    CHECK(slack.posts().empty());
}

TEST_CASE("when Slack cannot be reached the call fails as retryable after its attempts") {
    WebApiClientOptions options;
    options.baseUrl = "http://127.0.0.1:9/api/";  // discard port: nothing listens
    options.token = "xoxb-unused";
    options.timeout = 2s;
    options.maxAttempts = 2;
    options.retryBackoff = mxbridge::BackoffOptions{.initial = 10ms, .max = 10ms};
    WebApiClient client(options);
    WebApiResult result = client.callAndWait("auth.test", {});
    REQUIRE(result.answer.failure);
    CHECK(result.answer.failure->kind == FailureKind::Retryable);
    CHECK(result.attempts == 2);
}
