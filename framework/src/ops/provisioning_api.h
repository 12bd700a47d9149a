// The provisioning HTTP API, /_mxbridge/provision/v1/..., for integration managers and
// scripts: list, link and unlink portals on behalf of a Matrix user, plus bridge-defined
// extras. Callers authenticate with the shared secret (provisioning.shared_secret) as a
// bearer token; the Matrix user they act for needs the room's state_default power level.
// Served on the appservice listener: AppserviceApi::setProvisioning() hands it the paths.
//
//   GET    /links[?room_id=&user_id=]   {"links":[{room_id, remote_room, options}]}
//   POST   /link    {room_id, remote_room, user_id, options?}   -> {"link":{...}}
//   DELETE /link    {room_id, remote_room, user_id}             -> {}
//   POST   /unlink  (the same, for clients without DELETE bodies)
//   GET    /bridge                      {name, network, links, rooms, remote_rooms}
// Errors are Matrix-style {errcode, error}: 401 M_MISSING_TOKEN, 403 M_FORBIDDEN (bad secret,
// too little power, bridge veto), 400 M_NOT_JSON/M_BAD_JSON/M_INVALID_PARAM, 404 M_NOT_FOUND.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "appservice/http_server.h"
#include "ops/room_power.h"
#include "ops/shared_secret_gate.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/result.h"
#include "mxbridge/store.h"

namespace mxbridge::detail {

struct ProvisioningOptions {
    Secret<std::string> sharedSecret;
    std::string bridgeName;   // for GET /bridge
    std::string networkName;
    uint64_t maxBodyBytes = 64 * 1024;
};

// A request to a bridge-defined extra endpoint.
struct ProvisioningRequest {
    std::string method;                        // "GET", "POST"...
    std::string path;                          // after the prefix, e.g. "/login"
    std::map<std::string, std::string> query;  // percent-decoded
    nlohmann::json body;                       // parsed JSON body, or null when empty
    std::optional<UserId> user;                // user_id from the body or the query
};

struct ProvisioningReply {
    unsigned status = 200;
    nlohmann::json body = nlohmann::json::object();
    static ProvisioningReply error(unsigned status, std::string errcode, std::string message) {
        return {status, {{"errcode", std::move(errcode)}, {"error", std::move(message)}}};
    }
};

class ProvisioningApi final : public HttpHandler {
public:
    static constexpr std::string_view kPrefix = "/_mxbridge/provision/v1";

    // Called on a provisioning worker thread.
    using PowerLevels = PowerLevelsFetch;
    // The bridge's say before a link is stored (unlink = false) or removed (true), for the
    // Matrix user asking: an error refuses it, and its message goes back to the caller; an
    // error with code kLinkPending is answered 202 {"pending": true, "message": ...}.
    using LinkConsent = std::function<Result<void>(const Link&, bool unlink, const UserId& user)>;
    using ExtraHandler = std::function<ProvisioningReply(const ProvisioningRequest&)>;

    ProvisioningApi(ProvisioningOptions options, LinkStore& links, PowerLevels powerLevels,
                    LinkConsent consent, Metrics& metrics);
    ~ProvisioningApi() override;

    // A bridge-defined endpoint, e.g. addExtra("POST", "/login", ...) for
    // POST /_mxbridge/provision/v1/login. Authenticated like the rest; the handler runs on a
    // worker thread, and checkPower() is there for it. Replaces one with the same method+path.
    void addExtra(const std::string& method, const std::string& path, ExtraHandler handler);

    // Ok when `user` may manage links in `room`, else the error to send.
    Result<void> checkPower(const UserId& user, const RoomId& room);

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return options_.maxBodyBytes; }
    RequestTerms termsFor(const http::request_header<>& header) const override;
    void onRequest(HttpRequest&& request, Responder respond) override;

private:
    ProvisioningReply route(const ProvisioningRequest& request);
    ProvisioningReply listLinks(const ProvisioningRequest& request);
    ProvisioningReply changeLink(const ProvisioningRequest& request, bool unlink);
    ProvisioningReply bridgeInfo();

    ProvisioningOptions options_;
    LinkStore& links_;
    PowerLevels powerLevels_;
    LinkConsent consent_;
    Logger log_{"provisioning"};
    Counter& refused_;
    Counter& linked_;
    Counter& unlinked_;
    SharedSecretGate gate_;
    std::mutex extrasMutex_;
    std::map<std::pair<std::string, std::string>, ExtraHandler> extras_;
    // Power checks call the homeserver: never on the HTTP threads.
    boost::asio::thread_pool workers_{2};
};

}  // namespace mxbridge::detail
