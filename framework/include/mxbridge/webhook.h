// Requests a remote network sends to the bridge (webhooks: Slack's Events API, a service's
// delivery callbacks), served on the appservice listener under /_mxbridge/webhook/. The
// framework reads the headers, refuses a body over the connector's limit before reading it
// (413), and hands the raw bytes over untouched, so a signature over them can be checked.
// A connector takes these requests by also implementing WebhookHandler. @since 0.5
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxbridge {

struct WebhookRequest {
    std::string method{};  // "POST", "GET", …
    // The path after /_mxbridge/webhook/, e.g. "slack/events" (no query string).
    std::string path{};
    // Header names in lower case; a header sent twice keeps its last value.
    std::map<std::string, std::string> headers{};
    std::string body{};   // the raw bytes, exactly as received
    std::string query{};  // after '?', as sent (not decoded); empty when none

    std::string_view header(const std::string& lowerCaseName) const {
        auto it = headers.find(lowerCaseName);
        return it == headers.end() ? std::string_view() : std::string_view(it->second);
    }
};

struct WebhookResponse {
    unsigned status = 200;
    std::string body{};
    std::string contentType = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers{};  // extra response headers
};

class WebhookHandler {
public:
    virtual ~WebhookHandler() = default;
    // The largest body read for a webhook request; a longer one is answered 413 before its
    // body is read and onWebhook never sees it.
    virtual uint64_t webhookBodyLimit() const { return 1024 * 1024; }
    // Called on an HTTP thread, for requests from anyone on the network: the handler
    // authenticates them itself. Must answer quickly (durably queue, then return); an
    // exception becomes a 500 and is logged.
    virtual WebhookResponse onWebhook(const WebhookRequest& request) = 0;
};

}  // namespace mxbridge
