// /_mxbridge/webhook/…: requests from the remote network to the connector's WebhookHandler
// (mxbridge/webhook.h). Open to anyone, like the media links: the handler authenticates.
#pragma once

#include <string_view>

#include "appservice/http_server.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/webhook.h"

namespace mxbridge::detail {

class WebhookEndpoint final : public HttpHandler {
public:
    static constexpr std::string_view kPrefix = "/_mxbridge/webhook/";
    static bool handles(std::string_view path) { return path.substr(0, kPrefix.size()) == kPrefix; }

    // `handler` must outlive this endpoint.
    WebhookEndpoint(WebhookHandler& handler, Metrics& metrics);

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return handler_.webhookBodyLimit(); }
    RequestTerms termsFor(const http::request_header<>& header) const override;
    void onRequest(HttpRequest&& request, Responder respond) override;

    // The request as the connector sees it (exposed for tests).
    static WebhookRequest toWebhookRequest(const HttpRequest& request);

private:
    WebhookHandler& handler_;
    Counter& failures_;
    Logger log_{"webhook"};
};

}  // namespace mxbridge::detail
