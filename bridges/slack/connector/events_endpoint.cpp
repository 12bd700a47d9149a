#include "events_endpoint.h"

#include <charconv>

namespace mxbridge::slack {

namespace {

WebhookResponse plain(unsigned status, std::string body) {
    return WebhookResponse{.status = status, .body = std::move(body) + "\n"};
}

int64_t millis(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

EventsEndpoint::EventsEndpoint(RequestVerifier verifier, EventInbox& inbox, Metrics& metrics,
                               std::function<void()> onAdmitted, Clock clock)
    : verifier_(std::move(verifier)),
      inbox_(inbox),
      onAdmitted_(std::move(onAdmitted)),
      clock_(std::move(clock)),
      refusedSignature_(metrics.counter("mxbridge_slack_events_refused_total",
                                        "Events API posts refused before parsing",
                                        {{"reason", "signature"}})),
      refusedMalformed_(metrics.counter("mxbridge_slack_events_refused_total",
                                        "Events API posts refused before parsing",
                                        {{"reason", "malformed"}})),
      admitted_(metrics.counter("mxbridge_slack_events_admitted_total",
                                "Slack events stored for bridging (each event_id once)")),
      redeliveries_(metrics.counter("mxbridge_slack_events_redelivered_total",
                                    "Slack deliveries of an event_id already stored, answered and not bridged again")),
      inboxFull_(metrics.counter("mxbridge_slack_events_deferred_total",
                                 "Slack events refused with 503 because too many await bridging")) {}

void EventsEndpoint::warnRefused(std::string_view message, LogFields fields) {
    int64_t now = millis(clock_());
    int64_t last = lastRefusalWarningMs_.load();
    if (now - last < 60'000 || !lastRefusalWarningMs_.compare_exchange_strong(last, now)) return;
    log_.warn(message, fields);
}

WebhookResponse EventsEndpoint::handle(const WebhookRequest& request) {
    if (request.method != "POST") {
        WebhookResponse response = plain(405, "Slack's Events API posts here; use POST");
        response.headers.emplace_back("Allow", "POST");
        return response;
    }
    SignatureVerdict verdict = verifier_.verify(
        SignedRequest{.timestamp = request.header("x-slack-request-timestamp"),
                      .signature = request.header("x-slack-signature"),
                      .body = request.body},
        clock_());
    if (verdict != SignatureVerdict::Valid) {
        refusedSignature_.inc();
        warnRefused("an Events API post was refused (at most one such warning a minute)",
                    {{"reason", describe(verdict)}});
        return plain(401, std::string(describe(verdict)));
    }

    Envelope envelope = parseEnvelope(request.body);
    if (auto* error = std::get_if<EnvelopeError>(&envelope)) {
        refusedMalformed_.inc();
        log_.warn("a signed Events API post could not be read; refused without a retry",
                  {{"error", error->message}});
        WebhookResponse response = plain(400, error->message);
        response.headers.emplace_back("X-Slack-No-Retry", "1");
        return response;
    }
    if (auto* verification = std::get_if<UrlVerification>(&envelope)) {
        log_.info("answered Slack's url_verification: the Request URL is accepted");
        return WebhookResponse{.status = 200, .body = verification->challenge};
    }
    if (auto* limited = std::get_if<AppRateLimited>(&envelope)) {
        log_.warn("Slack held back this workspace's events for a minute (over 30,000 an hour); "
                  "they are not redelivered",
                  {{"team_id", limited->teamId}, {"minute", limited->minuteRateLimited}});
        return plain(200, "ok");
    }

    const auto& callback = std::get<EventCallback>(envelope);
    std::string_view retryNum = request.header("x-slack-retry-num");
    switch (inbox_.admit(callback, clock_())) {
        case EventInbox::Admission::Accepted:
            admitted_.inc();
            if (!retryNum.empty())
                log_.info("Slack redelivered an event we had not stored; storing it now",
                          {{"event_id", callback.eventId}, {"retry_num", retryNum},
                           {"retry_reason", request.header("x-slack-retry-reason")}});
            if (onAdmitted_) onAdmitted_();
            return plain(200, "ok");
        case EventInbox::Admission::Duplicate:
            redeliveries_.inc();
            log_.debug("redelivered event answered, not bridged again",
                       {{"event_id", callback.eventId}, {"retry_num", retryNum}});
            return plain(200, "ok");
        case EventInbox::Admission::Full:
            inboxFull_.inc();
            warnRefused("too many Slack events await bridging; Slack will retry this one later",
                        {{"event_id", callback.eventId}});
            return plain(503, "busy; retry later");
    }
    return plain(500, "internal error");
}

}  // namespace mxbridge::slack
