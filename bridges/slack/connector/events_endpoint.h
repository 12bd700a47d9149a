// Slack's Events API over HTTP, as a webhook on the bridge's listener (Request URL
// https://<bridge>/_mxbridge/webhook/slack/events). Order of checks, each answered at once:
// POST only (405); the signature over the raw body and the timestamp's freshness before any
// parsing (401, nothing else is looked at); the envelope (400 with X-Slack-No-Retry, since a
// body that does not parse never will); then url_verification is answered with its
// challenge, and an event is stored in the inbox before the 2xx (a redelivery is answered
// 2xx and not stored twice). Bridging happens afterwards, off the HTTP thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "event_inbox.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/slack/request_signature.h"
#include "mxbridge/webhook.h"

namespace mxbridge::slack {

class EventsEndpoint {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    // `onAdmitted` runs after a new event is stored (wake the worker that bridges it).
    EventsEndpoint(RequestVerifier verifier, EventInbox& inbox, Metrics& metrics,
                   std::function<void()> onAdmitted, Clock clock = std::chrono::system_clock::now);

    WebhookResponse handle(const WebhookRequest& request);

private:
    // At most one warning a minute for refused requests: a flood of forged posts costs a log line.
    void warnRefused(std::string_view message, LogFields fields);

    RequestVerifier verifier_;
    EventInbox& inbox_;
    std::function<void()> onAdmitted_;
    Clock clock_;
    Logger log_{"slack"};
    Counter& refusedSignature_;
    Counter& refusedMalformed_;
    Counter& admitted_;
    Counter& redeliveries_;
    Counter& inboxFull_;
    std::atomic<int64_t> lastRefusalWarningMs_{0};
};

}  // namespace mxbridge::slack
