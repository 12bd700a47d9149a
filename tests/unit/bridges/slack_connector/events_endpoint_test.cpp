// The Events API webhook as Slack and an attacker see it: status codes, what is stored, and
// that nothing unsigned, stale or unreadable gets as far as the inbox.
#include <doctest/doctest.h>

#include <algorithm>

#include "event_inbox.h"
#include "events_endpoint.h"
#include "mxbridge/testing/memory_stores.h"

using namespace mxbridge;
using namespace mxbridge::slack;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "test-signing-secret";
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

std::string messageBody(const std::string& eventId, const std::string& text) {
    nlohmann::json body = {{"type", "event_callback"}, {"team_id", "T0TEAM001"}, {"api_app_id", "A0APP0001"},
                           {"event_id", eventId}, {"event_time", 1700000000},
                           {"event", {{"type", "message"}, {"channel", "C0CHAN001"}, {"user", "U0USER001"},
                                      {"text", text}, {"ts", "1700000000.000100"}}}};
    return body.dump();
}

struct Slack {
    testing::MemoryKvStore store;
    EventInbox inbox{store};
    Metrics metrics;
    int wakeups = 0;
    std::chrono::system_clock::time_point now = kNow;
    EventsEndpoint endpoint{RequestVerifier(kSecret), inbox, metrics, [this] { ++wakeups; },
                            [this] { return now; }};

    // A post as Slack makes it: signed now with the app's secret.
    WebhookRequest signedPost(const std::string& body, std::chrono::system_clock::time_point signedAt) const {
        std::string timestamp = std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(signedAt.time_since_epoch()).count());
        return WebhookRequest{.method = "POST",
                              .path = "slack/events",
                              .headers = {{"content-type", "application/json"},
                                          {"x-slack-request-timestamp", timestamp},
                                          {"x-slack-signature", RequestVerifier(kSecret).sign(timestamp, body)}},
                              .body = body};
    }
    WebhookRequest signedPost(const std::string& body) const { return signedPost(body, now); }

    uint64_t counter(const std::string& name, const Labels& labels = {}) {
        return metrics.counter(name, "", labels).value();
    }
};

}  // namespace

TEST_CASE("a signed event is stored before Slack hears 200, and the worker is woken") {
    Slack slack;
    WebhookResponse response = slack.endpoint.handle(slack.signedPost(messageBody("Ev1", "hello")));
    CHECK(response.status == 200);
    CHECK(slack.wakeups == 1);
    auto pending = slack.inbox.nextPending();
    REQUIRE(pending);
    CHECK(pending->event.at("text") == "hello");
    CHECK(slack.store.all().count("slack/event/Ev1") == 1);
}

TEST_CASE("Slack's retries of one event (X-Slack-Retry-Num) are answered 200 and stored once") {
    Slack slack;
    std::string body = messageBody("Ev1", "hello");
    CHECK(slack.endpoint.handle(slack.signedPost(body)).status == 200);
    for (int retry = 1; retry <= 3; ++retry) {
        slack.now += 1min;
        WebhookRequest again = slack.signedPost(body);
        again.headers["x-slack-retry-num"] = std::to_string(retry);
        again.headers["x-slack-retry-reason"] = "http_timeout";
        CHECK(slack.endpoint.handle(again).status == 200);
    }
    CHECK(slack.inbox.pendingCount() == 1);
    CHECK(slack.wakeups == 1);
    CHECK(slack.counter("mxbridge_slack_events_redelivered_total") == 3);
}

TEST_CASE("a forged, unsigned or stale post is refused with 401 and nothing is stored") {
    Slack slack;
    std::string body = messageBody("Ev1", "forged");
    SUBCASE("signed with another secret") {
        WebhookRequest request = slack.signedPost(body);
        request.headers["x-slack-signature"] = RequestVerifier("guessed").sign(
            request.headers["x-slack-request-timestamp"], body);
        WebhookResponse response = slack.endpoint.handle(request);
        CHECK(response.status == 401);
        CHECK(response.body.find("does not match") != std::string::npos);
    }
    SUBCASE("the body changed after signing") {
        WebhookRequest request = slack.signedPost(body);
        request.body = messageBody("Ev1", "changed");
        CHECK(slack.endpoint.handle(request).status == 401);
    }
    SUBCASE("no signature headers") {
        WebhookRequest request{.method = "POST", .path = "slack/events", .headers = {}, .body = body};
        CHECK(slack.endpoint.handle(request).status == 401);
    }
    SUBCASE("signed six minutes ago (a replay)") {
        WebhookResponse response = slack.endpoint.handle(slack.signedPost(body, kNow - 6min));
        CHECK(response.status == 401);
        CHECK(response.body.find("5 minutes") != std::string::npos);
    }
    SUBCASE("signed six minutes ahead") {
        CHECK(slack.endpoint.handle(slack.signedPost(body, kNow + 6min)).status == 401);
    }
    CHECK(slack.inbox.pendingCount() == 0);
    CHECK(slack.store.all().empty());
    CHECK(slack.wakeups == 0);
    CHECK(slack.counter("mxbridge_slack_events_refused_total", {{"reason", "signature"}}) == 1);
}

TEST_CASE("a signed body that is not an envelope gets 400 with X-Slack-No-Retry and the reason") {
    Slack slack;
    WebhookResponse response = slack.endpoint.handle(slack.signedPost(R"({"type":"event_callback","event":{}})"));
    CHECK(response.status == 400);
    CHECK(response.body.find("event_id") != std::string::npos);
    CHECK(std::find(response.headers.begin(), response.headers.end(),
                    std::pair<std::string, std::string>("X-Slack-No-Retry", "1")) != response.headers.end());
    CHECK(slack.store.all().empty());
}

TEST_CASE("url_verification is answered with the challenge, once signed") {
    Slack slack;
    std::string body = R"({"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})";
    WebhookResponse response = slack.endpoint.handle(slack.signedPost(body));
    CHECK(response.status == 200);
    CHECK(response.body == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    WebhookRequest unsigned_{.method = "POST", .path = "slack/events", .headers = {}, .body = body};
    CHECK(slack.endpoint.handle(unsigned_).status == 401);
}

TEST_CASE("a GET is told to POST") {
    Slack slack;
    WebhookResponse response = slack.endpoint.handle(WebhookRequest{.method = "GET", .path = "slack/events"});
    CHECK(response.status == 405);
}

TEST_CASE("when too many events await bridging Slack gets 503 and retries later") {
    Slack slack;
    EventInboxOptions options;
    options.maxPending = 1;
    EventInbox small(slack.store, options);
    EventsEndpoint endpoint(RequestVerifier(kSecret), small, slack.metrics, nullptr, [&slack] { return slack.now; });
    CHECK(endpoint.handle(slack.signedPost(messageBody("Ev1", "a"))).status == 200);
    CHECK(endpoint.handle(slack.signedPost(messageBody("Ev2", "b"))).status == 503);
    CHECK(slack.store.all().count("slack/event/Ev2") == 0);
}
