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
#include "appservice/token_auth.h"
#include "journal/journal.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"

namespace mxbridge::detail {

// What the API asks of the rest of the runtime. Called on a query worker thread, never on
// an HTTP thread, so an implementation may call the homeserver.
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
    // Readiness for /health: empty when healthy, else what is wrong.
    virtual std::string healthProblem() = 0;
};

struct AppserviceApiOptions {
    Secret<std::string> hsToken;
    bool allowQueryToken = false;
    uint64_t maxBodyBytes = 64 * 1024 * 1024;
    bool serveMetrics = true;
};

class AppserviceApi : public HttpHandler {
public:
    AppserviceApi(AppserviceApiOptions options, Journal& journal, QueryService& queries,
                  Metrics& metrics);
    ~AppserviceApi() override;

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return options_.maxBodyBytes; }
    void onRequest(HttpRequest&& request, Responder respond) override;

    // The transaction_id of the last appservice ping the homeserver relayed to us.
    std::string lastPingTransactionId() const;

    // Paths under /_mxbridge/provision/ go to `handler` (ops/provisioning_api.h), which does
    // its own auth; unset (the default) they are unrecognized like any other. Set before
    // listening; the handler must outlive this API.
    void setProvisioning(HttpHandler* handler) { provisioning_.store(handler); }

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
    void warnQueryTokenRefused(std::string_view path);

    AppserviceApiOptions options_;
    TokenAuth auth_;
    Journal& journal_;
    QueryService& queries_;
    Metrics& metrics_;
    Logger log_{"appservice"};
    Counter& refusedAuth_;
    Counter& badRequests_;
    Histogram& ackSeconds_;
    boost::asio::thread_pool queryPool_{2};
    mutable std::mutex pingMutex_;
    std::string lastPingTxn_;
    std::atomic<int64_t> lastQueryTokenWarning_{0};
    std::atomic<HttpHandler*> provisioning_{nullptr};
    HttpHandler* provisioningFor(std::string_view path) const;
};

}  // namespace mxbridge::detail
