// GET /_mxbridge/v1/state on the appservice listener: the state of every remote connection
// the bridge reported (RemoteStateTracker), for monitors and support. Authenticated with the
// provisioning shared secret, like the provisioning API.
//
//   {"connections": [{network, state, reason, code, since}],          the bridge's own
//    "logins": [{network, owner, login_id, state, reason, code, since}]}
// `since` is when the state began, in ms since the epoch; `state` is remoteStateName().
#pragma once

#include <string_view>

#include "appservice/http_server.h"
#include "ops/remote_state_tracker.h"
#include "ops/shared_secret_gate.h"

namespace mxbridge::detail {

class StateEndpoint final : public HttpHandler {
public:
    static constexpr std::string_view kPath = "/_mxbridge/v1/state";

    StateEndpoint(Secret<std::string> sharedSecret, const RemoteStateTracker& states);

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return 0; }  // a GET: no body
    RequestTerms termsFor(const http::request_header<>&) const override {
        return RequestTerms{.bodyLimit = 0, .limitName = "the state endpoint's body limit (none)"};
    }
    void onRequest(HttpRequest&& request, Responder respond) override;

private:
    SharedSecretGate gate_;
    const RemoteStateTracker& states_;
};

}  // namespace mxbridge::detail
