// The provisioning shared secret (provisioning.shared_secret) as a bearer token: what the
// provisioning API and the state endpoint check before anything else. Missing: 401
// M_MISSING_TOKEN; wrong: 403 M_FORBIDDEN, logged at most once a minute; no secret set
// (provisioning disabled): 403 for everyone.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "appservice/http_server.h"
#include "mxbridge/log.h"
#include "util/log_throttle.h"

namespace mxbridge::detail {

class SharedSecretGate {
public:
    explicit SharedSecretGate(Secret<std::string> secret);

    // Nothing when `header` carries the secret; else the answer to refuse the request with.
    std::optional<HttpResponse> refusal(const http::request_header<>& header, std::string_view path);

private:
    Secret<std::string> secret_;
    Logger log_{"provisioning"};
    LogThrottle wrongSecretWarnings_{std::chrono::seconds(60)};
};

}  // namespace mxbridge::detail
