// /metrics and /health on a listener of their own (metrics.port), for operators who keep
// monitoring traffic apart from the homeserver's.
#pragma once

#include <functional>

#include "appservice/http_server.h"
#include "mxbridge/metrics.h"

namespace mxbridge::detail {

class MetricsEndpoint final : public HttpHandler {
public:
    // `healthProblem` returns an empty string when healthy.
    MetricsEndpoint(Metrics& metrics, std::function<std::string()> healthProblem)
        : metrics_(metrics), healthProblem_(std::move(healthProblem)) {}

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return 0; }
    void onRequest(HttpRequest&& request, Responder respond) override;

private:
    Metrics& metrics_;
    std::function<std::string()> healthProblem_;
};

}  // namespace mxbridge::detail
