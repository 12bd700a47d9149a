#include "appservice/metrics_endpoint.h"

#include <nlohmann/json.hpp>

namespace mxbridge::detail {

std::optional<HttpResponse> MetricsEndpoint::onHeaders(const http::request_header<>& header) {
    std::string_view target(header.target().data(), header.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics" && path != "/health")
        return matrixError(http::status::not_found, "M_UNRECOGNIZED", "Unrecognized request");
    if (header.method() != http::verb::get)
        return matrixError(http::status::method_not_allowed, "M_UNRECOGNIZED", "Method not allowed");
    return std::nullopt;
}

void MetricsEndpoint::onRequest(HttpRequest&& request, Responder respond) {
    std::string_view target(request.target().data(), request.target().size());
    if (target.substr(0, target.find('?')) == "/health") {
        std::string problem = healthProblem_();
        nlohmann::json body = {{"status", problem.empty() ? "ok" : "unhealthy"}};
        if (!problem.empty()) body["problem"] = problem;
        respond(jsonResponse(problem.empty() ? http::status::ok : http::status::service_unavailable,
                             body.dump()));
        return;
    }
    HttpResponse r{http::status::ok, 11};
    r.set(http::field::content_type, "text/plain; version=0.0.4");
    r.body() = metrics_.renderPrometheus();
    respond(std::move(r));
}

}  // namespace mxbridge::detail
