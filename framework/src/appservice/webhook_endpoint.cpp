#include "appservice/webhook_endpoint.h"

#include <cctype>
#include <exception>

namespace mxbridge::detail {

WebhookEndpoint::WebhookEndpoint(WebhookHandler& handler, Metrics& metrics)
    : handler_(handler),
      failures_(metrics.counter("mxbridge_webhook_handler_failures_total",
                                "Webhook requests whose handler threw (answered 500)")) {}

std::optional<HttpResponse> WebhookEndpoint::onHeaders(const http::request_header<>&) {
    return std::nullopt;  // the body limit is applied by termsFor; the handler judges the rest
}

RequestTerms WebhookEndpoint::termsFor(const http::request_header<>&) const {
    return RequestTerms{.bodyLimit = handler_.webhookBodyLimit(),
                        .limitName = "the bridge's webhook body limit"};
}

WebhookRequest WebhookEndpoint::toWebhookRequest(const HttpRequest& request) {
    std::string_view target(request.target().data(), request.target().size());
    std::size_t question = target.find('?');
    std::string_view path = target.substr(0, question);
    path.remove_prefix(std::min(path.size(), kPrefix.size()));
    WebhookRequest out;
    out.method = std::string(request.method_string());
    out.path = std::string(path);
    if (question != std::string_view::npos) out.query = std::string(target.substr(question + 1));
    for (const auto& field : request) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[std::move(name)] = std::string(field.value());
    }
    out.body = request.body();
    return out;
}

void WebhookEndpoint::onRequest(HttpRequest&& request, Responder respond) {
    HttpResponse response{http::status::internal_server_error, request.version()};
    try {
        WebhookResponse answer = handler_.onWebhook(toWebhookRequest(request));
        response.result(static_cast<unsigned>(answer.status));
        response.set(http::field::content_type, answer.contentType);
        for (const auto& [name, value] : answer.headers) response.set(name, value);
        response.body() = std::move(answer.body);
    } catch (const std::exception& e) {
        failures_.inc();
        log_.error("the bridge's webhook handler failed; answered 500",
                   {{"path", std::string(request.target().substr(0, 200))}, {"error", e.what()}});
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        response.body() = "internal error\n";
    } catch (...) {
        failures_.inc();
        log_.error("the bridge's webhook handler failed; answered 500",
                   {{"path", std::string(request.target().substr(0, 200))}});
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        response.body() = "internal error\n";
    }
    response.set(http::field::server, "mxbridge");
    respond(std::move(response));
}

}  // namespace mxbridge::detail
