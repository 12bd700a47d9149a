#include "ops/state_endpoint.h"

#include <nlohmann/json.hpp>

namespace mxbridge::detail {

StateEndpoint::StateEndpoint(Secret<std::string> sharedSecret, const RemoteStateTracker& states)
    : gate_(std::move(sharedSecret)), states_(states) {}

std::optional<HttpResponse> StateEndpoint::onHeaders(const http::request_header<>& header) {
    if (auto refusal = gate_.refusal(header, kPath)) return refusal;
    if (header.method() != http::verb::get)
        return matrixError(http::status::method_not_allowed, "M_UNRECOGNIZED", "Method not allowed for this path");
    return std::nullopt;
}

void StateEndpoint::onRequest(HttpRequest&& request, Responder respond) {
    using nlohmann::json;
    json connections = json::array();
    json logins = json::array();
    for (const RemoteStateEntry& e : states_.snapshot()) {
        json item = {{"network", e.subject.network},
                     {"state", remoteStateName(e.status.state)},
                     {"reason", e.status.reason},
                     {"code", e.status.code},
                     {"since", e.sinceMs}};
        if (e.subject.owner.empty()) {
            connections.push_back(std::move(item));
        } else {
            item["owner"] = e.subject.owner.str();
            item["login_id"] = e.subject.loginId;
            logins.push_back(std::move(item));
        }
    }
    json body = {{"connections", std::move(connections)}, {"logins", std::move(logins)}};
    // Reasons come from the network: replace bytes that are not UTF-8 rather than throw.
    respond(jsonResponse(http::status::ok, body.dump(-1, ' ', false, json::error_handler_t::replace),
                         request.version()));
}

}  // namespace mxbridge::detail
