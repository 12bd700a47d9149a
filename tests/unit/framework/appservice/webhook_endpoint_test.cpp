// /_mxbridge/webhook/: what a connector's WebhookHandler receives and how its answer (or its
// exception) reaches the remote side.
#include <doctest/doctest.h>

#include <stdexcept>

#include "appservice/webhook_endpoint.h"

using namespace mxbridge;
using namespace mxbridge::detail;

namespace {

class RecordingHandler final : public WebhookHandler {
public:
    uint64_t webhookBodyLimit() const override { return 4096; }
    WebhookResponse onWebhook(const WebhookRequest& request) override {
        seen = request;
        if (fail) throw std::runtime_error("handler broke");
        return WebhookResponse{.status = 202, .body = "{\"ok\":true}", .contentType = "application/json",
                               .headers = {{"X-Test", "yes"}}};
    }
    WebhookRequest seen;
    bool fail = false;
};

HttpRequest post(const std::string& target, const std::string& body) {
    HttpRequest request{http::verb::post, target, 11};
    request.set("X-Slack-Signature", "v0=abc");
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    return request;
}

HttpResponse answer(WebhookEndpoint& endpoint, HttpRequest request) {
    HttpResponse out;
    endpoint.onRequest(std::move(request), Responder([&out](HttpResponse&& r) { out = std::move(r); }));
    return out;
}

}  // namespace

TEST_CASE("the handler gets the path after the prefix, the query, lower-cased headers and the raw body") {
    RecordingHandler handler;
    Metrics metrics;
    WebhookEndpoint endpoint(handler, metrics);
    std::string body = "{\"a\": 1,\n \"b\":\"\\u00e9\"}  ";
    HttpResponse response = answer(endpoint, post("/_mxbridge/webhook/slack/events?x=1&y=%20", body));
    CHECK(handler.seen.method == "POST");
    CHECK(handler.seen.path == "slack/events");
    CHECK(handler.seen.query == "x=1&y=%20");
    CHECK(handler.seen.header("x-slack-signature") == "v0=abc");
    CHECK(handler.seen.body == body);
    CHECK(response.result_int() == 202);
    CHECK(response[http::field::content_type] == "application/json");
    CHECK(response["X-Test"] == "yes");
    CHECK(response.body() == "{\"ok\":true}");
}

TEST_CASE("the connector's body limit is what the listener enforces for webhook paths") {
    RecordingHandler handler;
    Metrics metrics;
    WebhookEndpoint endpoint(handler, metrics);
    http::request_header<> header;
    header.method(http::verb::post);
    header.target("/_mxbridge/webhook/slack/events");
    CHECK(endpoint.termsFor(header).bodyLimit == 4096);
    CHECK_FALSE(endpoint.termsFor(header).fromHomeserver);
}

TEST_CASE("a handler that throws answers 500 and is counted, and the server goes on") {
    RecordingHandler handler;
    handler.fail = true;
    Metrics metrics;
    WebhookEndpoint endpoint(handler, metrics);
    HttpResponse response = answer(endpoint, post("/_mxbridge/webhook/slack/events", "{}"));
    CHECK(response.result_int() == 500);
    CHECK(metrics.counter("mxbridge_webhook_handler_failures_total", "").value() == 1);
}
