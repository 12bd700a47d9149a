// The Application Service API the homeserver calls: routing (current and legacy paths),
// authentication, and the answers. Transactions go to the journal; queries to the runtime.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "appservice/http_server.h"
#include "appservice/query_runner.h"
#include "appservice/token_auth.h"
#include "journal/journal.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "util/log_throttle.h"

namespace mxbridge::detail {

// What the API asks of the rest of the runtime. Called on a query worker thread, never on
// an HTTP thread, so an implementation may call the homeserver; several queries run at once
// (AppserviceApiOptions::queryConcurrency), so implementations must be thread-safe.
class QueryService {
public:
    virtual ~QueryService() = default;
    // 200 with {} once the user exists; 404 when the bridge does not provide it.
    virtual bool queryUser(const std::string& userId) = 0;
    virtual bool queryAlias(const std::string& alias) = 0;
    // Third-party lookups; an empty result answers 404 as the spec asks.
    virtual std::optional<nlohmann::json> thirdpartyProtocol(const std::string& protocol) = 0;
    virtual nlohmann::json thirdpartyQuery(const std::string& kind, const std::string& protocol,
                                           const std::map<std::string, std::string>& fields) = 0;
    // Readiness for /health: empty when healthy, else what is wrong. Called on a thread of
    // its own that no query shares, so /health never waits behind the homeserver; it should
    // not itself wait on the network.
    virtual std::string healthProblem() = 0;
};

struct AppserviceApiOptions {
    Secret<std::string> hsToken;
    bool allowQueryToken = false;
    uint64_t maxBodyBytes = 64 * 1024 * 1024;
    // /metrics on this listener; false (metrics off, or on a port of their own) answers 404.
    bool serveMetrics = true;
    // User/alias/third-party queries running at once, and how long one may take before it
    // is answered 404 "not ready" (its work goes on): keep it under the homeserver's own
    // timeout for appservice calls (Synapse: 60 s).
    unsigned queryConcurrency = 8;
    std::chrono::milliseconds queryDeadline{20000};
};

class AppserviceApi : public HttpHandler {
public:
    AppserviceApi(AppserviceApiOptions options, Journal& journal, QueryService& queries,
                  Metrics& metrics);
    ~AppserviceApi() override;

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return options_.maxBodyBytes; }
    RequestTerms termsFor(const http::request_header<>& header) const override;
    void onRequest(HttpRequest&& request, Responder respond) override;

    // Stops taking queries and waits for those in progress: call after the HTTP server
    // stopped and before what queries use (the connector, portals) is stopped.
    void stopQueries() { queryRunner_.stop(); }

    // The transaction_id of the last appservice ping the homeserver relayed to us.
    std::string lastPingTransactionId() const;

    // Paths under /_mxbridge/provision/ go to `handler` (ops/provisioning_api.h), which does
    // its own auth; unset (the default) they are unrecognized like any other. Set before
    // listening; the handler must outlive this API.
    void setProvisioning(HttpHandler* handler) { provisioning_.store(handler); }
    // Paths under /_mxbridge/media/ go to `handler` (media/media_endpoint.h), open to anyone
    // holding a signed link. Set before listening; the handler must outlive this API.
    void setMedia(HttpHandler* handler) { media_.store(handler); }
    // GET /_mxbridge/v1/state goes to `handler` (ops/state_endpoint.h), which does its own
    // auth. Set before listening; the handler must outlive this API.
    void setStateEndpoint(HttpHandler* handler) { stateEndpoint_.store(handler); }
    // Paths under /_mxbridge/webhook/ go to `handler` (appservice/webhook_endpoint.h): the
    // connector's own, which authenticates them. Set before listening; it must outlive this API.
    void setWebhook(HttpHandler* handler) { webhook_.store(handler); }

private:
    enum class Route {
        Transaction, User, Alias, ThirdpartyProtocol, ThirdpartyUser, ThirdpartyLocation,
        ThirdpartyUserReverse, ThirdpartyLocationReverse, Ping, Metrics, Health, NotFound,
        WrongMethod
    };
    struct Match {
        Route route = Route::NotFound;
        std::string param;  // txnId, userId, alias or protocol, percent-decoded
        bool legacy = false;
    };
    static Match match(http::verb method, std::string_view path);
    static bool needsAuth(Route route) { return route != Route::Metrics && route != Route::Health; }

    void handleTransaction(const std::string& txnId, HttpRequest&& request, Responder respond);
    void answerQuery(const Match& m, const std::string& query, Responder respond);
    void answerHealth(Responder respond);
    // A refusal's warning, at most one a minute per kind (the held-back ones are counted in
    // the next), with the path cut to a bounded length: a flood of refused requests must not
    // become a flood of log.
    void warnRefused(LogThrottle& throttle, std::string_view message, std::string_view path);

    AppserviceApiOptions options_;
    TokenAuth auth_;
    Journal& journal_;
    QueryService& queries_;
    Metrics& metrics_;
    Logger log_{"appservice"};
    Counter& refusedAuth_;
    Counter& badRequests_;
    Histogram& ackSeconds_;
    mutable std::mutex pingMutex_;
    std::string lastPingTxn_;
    LogThrottle queryTokenWarnings_{std::chrono::seconds(60)};
    LogThrottle missingTokenWarnings_{std::chrono::seconds(60)};
    LogThrottle wrongTokenWarnings_{std::chrono::seconds(60)};
    LogThrottle lateQueryWarnings_{std::chrono::seconds(60)};
    // Declared after what their work uses, so they are joined before it is destroyed.
    QueryRunner queryRunner_;
    // /health has a lane of its own: it must answer while every query waits on the homeserver.
    boost::asio::thread_pool healthLane_{1};
    std::atomic<HttpHandler*> provisioning_{nullptr};
    HttpHandler* provisioningFor(std::string_view path) const;
    std::atomic<HttpHandler*> media_{nullptr};
    std::atomic<HttpHandler*> stateEndpoint_{nullptr};
    std::atomic<HttpHandler*> webhook_{nullptr};
    // The handler of a path outside the homeserver's API (provisioning, media, webhooks), if any.
    HttpHandler* mountedFor(std::string_view path) const;
};

}  // namespace mxbridge::detail
