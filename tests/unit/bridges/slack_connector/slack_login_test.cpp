// `!login slack`: what a user is told for each token they might paste, and what is stored.
#include <doctest/doctest.h>

#include <thread>

#include "slack_login.h"

using namespace mxbridge;
using namespace mxbridge::slack;

namespace {

// auth.test as Slack answers it for a token, recording what was asked.
struct FakeSlack {
    std::vector<UserCredentials> asked;
    std::string scopes = "chat:write,users:read";
    std::string team = "T0TEAM001";
    std::string error;  // non-empty: auth.test fails with it

    AuthTest authTest() {
        return [this](const UserCredentials& credentials) {
            asked.push_back(credentials);
            WebApiResult result;
            if (!error.empty()) {
                result.answer.failure = failureFor(error);
                return result;
            }
            result.answer.body = {{"ok", true}, {"user", "alice"}, {"user_id", "U0ALICE01"},
                                  {"team", "Team"}, {"team_id", team}};
            result.grantedScopes = scopes;
            return result;
        };
    }
};

LoginInput secrets(std::map<std::string, std::string> values) {
    LoginInput input;
    for (auto& [k, v] : values) input.secrets[k] = Secret<std::string>(v);
    return input;
}

BridgeTeam team(std::optional<std::string> id = "T0TEAM001") {
    return [id] { return id; };
}

}  // namespace

TEST_CASE("a user token is checked with auth.test and stored with the user's Slack id") {
    FakeSlack slack;
    SlackLoginProcess login("token", team(), slack.authTest());
    Result<LoginStep> asked = login.start();
    REQUIRE(asked);
    REQUIRE(asked->fields.size() == 1);
    CHECK(asked->fields[0].kind == LoginField::Kind::Secret);
    Result<LoginStep> done = login.submit(secrets({{"token", "  xoxp-1-2-abc \n"}}));
    REQUIRE(done);
    REQUIRE(done->kind == LoginStep::Kind::Complete);
    CHECK(slack.asked.at(0).token == "xoxp-1-2-abc");
    CHECK(done->login->remoteName == "alice");
    CHECK(done->login->data.value("user_id", "") == "U0ALICE01");
    auto stored = readCredentials(done->login->secret.reveal());
    REQUIRE(stored);
    CHECK(stored->token == "xoxp-1-2-abc");
    CHECK(stored->cookie.empty());
}

TEST_CASE("a refused token, another workspace's token and a missing scope are each told in words") {
    FakeSlack slack;
    slack.error = "invalid_auth";
    auto refused = SlackLoginProcess("token", team(), slack.authTest()).submit(secrets({{"token", "xoxp-1"}}));
    REQUIRE(!refused);
    CHECK(refused.error().message == "Slack refused the token: the Slack token is not valid.");

    slack.error.clear();
    slack.team = "T0OTHER01";
    auto other = SlackLoginProcess("token", team(), slack.authTest()).submit(secrets({{"token", "xoxp-1"}}));
    REQUIRE(!other);
    CHECK(other.error().message.find("this bridge serves T0TEAM001") != std::string::npos);

    slack.team = "T0TEAM001";
    slack.scopes = "users:read";
    auto scopeless = SlackLoginProcess("token", team(), slack.authTest()).submit(secrets({{"token", "xoxp-1"}}));
    REQUIRE(!scopeless);
    CHECK(scopeless.error().message.find("lacks the user scope chat:write") != std::string::npos);
}

TEST_CASE("tokens of the wrong kind are refused before Slack is asked") {
    FakeSlack slack;
    auto bot = SlackLoginProcess("token", team(), slack.authTest()).submit(secrets({{"token", "xoxb-1-2"}}));
    CHECK(bot.error().message.find("That is a bot token") != std::string::npos);
    auto client = SlackLoginProcess("token", team(), slack.authTest()).submit(secrets({{"token", "xoxc-1-2"}}));
    CHECK(client.error().message.find("!login slack cookie") != std::string::npos);
    // Nothing that could break out of an HTTP header gets near one.
    auto injected = SlackLoginProcess("token", team(), slack.authTest())
                        .submit(secrets({{"token", "xoxp-1\r\nX-Evil: 1"}}));
    CHECK(!injected);
    auto badCookie = SlackLoginProcess("cookie", team(), slack.authTest())
                         .submit(secrets({{"token", "xoxc-1"}, {"cookie", "xoxd-a b"}}));
    CHECK(!badCookie);
    CHECK(slack.asked.empty());
}

TEST_CASE("a desktop client token goes with its d cookie, however it was pasted; it lists no scopes") {
    FakeSlack slack;
    slack.scopes.clear();
    for (std::string pasted : {"xoxd-abc%2Fdef", "d=xoxd-abc%2Fdef", "Cookie: d-s=17; d=xoxd-abc%2Fdef; lc=1"}) {
        SlackLoginProcess login("cookie", team(), slack.authTest());
        REQUIRE(login.start()->fields.size() == 2);
        Result<LoginStep> done = login.submit(secrets({{"token", "xoxc-9-8"}, {"cookie", pasted}}));
        REQUIRE_MESSAGE(done, pasted);
        auto stored = readCredentials(done->login->secret.reveal());
        REQUIRE(stored);
        CHECK(stored->cookie == "xoxd-abc%2Fdef");
        CHECK(slack.asked.back().cookie == "xoxd-abc%2Fdef");
    }
}

TEST_CASE("before the bridge knows its workspace, a login is asked to wait") {
    FakeSlack slack;
    auto early = SlackLoginProcess("token", team(std::nullopt), slack.authTest()).submit(secrets({{"token", "xoxp-1"}}));
    REQUIRE(!early);
    CHECK(early.error().retryable);
    CHECK(slack.asked.empty());
}

TEST_CASE("a stored secret that is not a login's is not read as one") {
    CHECK(!readCredentials("xoxp-plain"));
    CHECK(!readCredentials(R"({"cookie":"xoxd-1"})"));
    CHECK(!readCredentials(R"({"token":"xoxp-1\r\n"})"));
    CHECK(readCredentials(credentialsSecret({.token = "xoxc-1", .cookie = "xoxd-2"}))->cookie == "xoxd-2");
}

TEST_CASE("the event worker waits for a user's posts in flight in that channel, and only for those") {
    using namespace std::chrono_literals;
    PostsInFlight posts;
    posts.sending("U1", "C1");
    posts.sending("U1", "C1");
    // Another user or channel has nothing in flight: no wait at all.
    auto start = std::chrono::steady_clock::now();
    posts.waitSettled("U2", "C1", 5s);
    posts.waitSettled("U1", "C2", 5s);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    // One of two answered: still waiting, up to the limit.
    posts.settled("U1", "C1");
    start = std::chrono::steady_clock::now();
    posts.waitSettled("U1", "C1", 100ms);
    CHECK(std::chrono::steady_clock::now() - start >= 100ms);
    // The last answer wakes the waiter long before its limit.
    std::thread answer([&] {
        std::this_thread::sleep_for(50ms);
        posts.settled("U1", "C1");
    });
    start = std::chrono::steady_clock::now();
    posts.waitSettled("U1", "C1", 10s);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    answer.join();
    // Stopping wakes anyone still waiting.
    posts.sending("U1", "C1");
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        posts.stop();
    });
    start = std::chrono::steady_clock::now();
    posts.waitSettled("U1", "C1", 10s);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    stopper.join();
}
