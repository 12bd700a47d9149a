#include "appservice/appservice_api.h"

#include <boost/asio/post.hpp>

#include "mxbridge/ids.h"
#include "util/log_text.h"

namespace mxbridge::detail {

namespace {

constexpr std::string_view kPrefix = "/_matrix/app/v1/";
constexpr std::string_view kUnstablePrefix = "/_matrix/app/unstable/";

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// "users/@a:b" with prefix "users/" -> "@a:b", only when exactly one more path segment follows.
std::optional<std::string> segmentAfter(std::string_view path, std::string_view prefix) {
    if (!startsWith(path, prefix)) return std::nullopt;
    std::string_view rest = path.substr(prefix.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
    return percentDecode(rest);
}

HttpResponse emptyOk() { return jsonResponse(http::status::ok, "{}"); }

}  // namespace

AppserviceApi::AppserviceApi(AppserviceApiOptions options, Journal& journal, QueryService& queries,
                             Metrics& metrics)
    : options_(std::move(options)),
      auth_(options_.hsToken, options_.allowQueryToken),
      journal_(journal),
      queries_(queries),
      metrics_(metrics),
      refusedAuth_(metrics.counter("mxbridge_http_auth_refused_total",
                                   "Requests refused for a missing or wrong hs_token")),
      badRequests_(metrics.counter("mxbridge_http_bad_requests_total",
                                   "Requests refused as malformed, too large or unknown")),
      ackSeconds_(metrics.histogram("mxbridge_transaction_ack_seconds",
                                    "From a transaction's body received to its durable ack", {},
                                    {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                     0.05, 0.1, 0.25, 1})),
      queryRunner_(options_.queryConcurrency, options_.queryDeadline) {}

AppserviceApi::~AppserviceApi() { healthLane_.join(); }

AppserviceApi::Match AppserviceApi::match(http::verb method, std::string_view path) {
    Match m;
    std::string_view rest;
    if (path == "/metrics" || path == "/health") {
        m.route = path == "/metrics" ? Route::Metrics : Route::Health;
        if (method != http::verb::get) m.route = Route::WrongMethod;
        return m;
    }
    if (startsWith(path, kPrefix)) {
        rest = path.substr(kPrefix.size());
    } else if (startsWith(path, kUnstablePrefix)) {
        rest = path.substr(kUnstablePrefix.size());
        m.legacy = true;
    } else if (startsWith(path, "/transactions/") || startsWith(path, "/users/") ||
               startsWith(path, "/rooms/")) {
        // Unprefixed paths of homeservers older than the v1 prefix (FIELD-NOTES: Synapse 1.67).
        rest = path.substr(1);
        m.legacy = true;
    } else {
        return m;
    }
    struct Candidate {
        std::string_view prefix;
        Route route;
        http::verb verb;
    };
    static const Candidate withParam[] = {
        {"transactions/", Route::Transaction, http::verb::put},
        {"users/", Route::User, http::verb::get},
        {"rooms/", Route::Alias, http::verb::get},
        {"thirdparty/protocol/", Route::ThirdpartyProtocol, http::verb::get},
        {"thirdparty/user/", Route::ThirdpartyUser, http::verb::get},
        {"thirdparty/location/", Route::ThirdpartyLocation, http::verb::get},
    };
    for (const auto& c : withParam) {
        if (auto param = segmentAfter(rest, c.prefix)) {
            m.route = method == c.verb ? c.route : Route::WrongMethod;
            m.param = std::move(*param);
            return m;
        }
    }
    struct Exact {
        std::string_view path;
        Route route;
        http::verb verb;
    };
    static const Exact exact[] = {
        {"thirdparty/user", Route::ThirdpartyUserReverse, http::verb::get},
        {"thirdparty/location", Route::ThirdpartyLocationReverse, http::verb::get},
        {"ping", Route::Ping, http::verb::post},
    };
    for (const auto& e : exact) {
        if (rest == e.path) {
            m.route = method == e.verb ? e.route : Route::WrongMethod;
            return m;
        }
    }
    return m;
}

void AppserviceApi::warnRefused(LogThrottle& throttle, std::string_view message,
                                std::string_view path) {
    auto heldBack = throttle.pass();
    if (!heldBack) return;
    log_.warn(message, {{"path", boundedForLog(path)}, {"similar_warnings_held_back", *heldBack}});
}

HttpHandler* AppserviceApi::provisioningFor(std::string_view path) const {
    constexpr std::string_view kProvisioning = "/_mxbridge/provision";
    HttpHandler* handler = provisioning_.load();
    if (!handler || !startsWith(path, kProvisioning)) return nullptr;
    return path.size() == kProvisioning.size() || path[kProvisioning.size()] == '/' ? handler : nullptr;
}

HttpHandler* AppserviceApi::mountedFor(std::string_view path) const {
    constexpr std::string_view kState = "/_mxbridge/v1/state";
    if (path == kState) return stateEndpoint_.load();
    if (HttpHandler* provisioning = provisioningFor(path)) return provisioning;
    constexpr std::string_view kWebhook = "/_mxbridge/webhook/";
    if (HttpHandler* webhook = webhook_.load(); webhook && startsWith(path, kWebhook)) return webhook;
    constexpr std::string_view kMedia = "/_mxbridge/media/";
    HttpHandler* media = media_.load();
    return media && startsWith(path, kMedia) ? media : nullptr;
}

std::optional<HttpResponse> AppserviceApi::onHeaders(const http::request_header<>& header) {
    std::string_view target(header.target().data(), header.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (HttpHandler* mounted = mountedFor(path)) return mounted->onHeaders(header);
    Match m = match(header.method(), path);
    if (m.route == Route::NotFound || (m.route == Route::Metrics && !options_.serveMetrics)) {
        // With metrics off or on a port of their own, /metrics here is just an unknown path.
        badRequests_.inc();
        return matrixError(http::status::not_found, "M_UNRECOGNIZED", "Unrecognized request");
    }
    if (m.route == Route::WrongMethod) {
        badRequests_.inc();
        return matrixError(http::status::method_not_allowed, "M_UNRECOGNIZED",
                           "Method not allowed for this path");
    }
    if (!needsAuth(m.route)) return std::nullopt;
    switch (auth_.check(header)) {
        case AuthResult::Ok:
            break;
        case AuthResult::Missing:
            refusedAuth_.inc();
            warnRefused(missingTokenWarnings_, "request without an access token refused", path);
            return matrixError(http::status::unauthorized, "M_MISSING_TOKEN",
                               "Missing access token");
        case AuthResult::QueryTokenRefused:
            refusedAuth_.inc();
            warnRefused(queryTokenWarnings_,
                        "refused a request authenticated only by ?access_token= in the query "
                        "string; older homeservers (e.g. Synapse 1.67, or "
                        "use_appservice_legacy_authorization) do this. To accept it set "
                        "appservice.allow_query_token: true "
                        "(env MXBRIDGE_APPSERVICE_ALLOW_QUERY_TOKEN=true)",
                        path);
            return matrixError(http::status::unauthorized, "M_MISSING_TOKEN",
                               "Access token in the query string is not accepted by this "
                               "bridge's configuration (appservice.allow_query_token)");
        case AuthResult::Wrong:
            refusedAuth_.inc();
            warnRefused(wrongTokenWarnings_,
                        "request with a wrong hs_token refused: the registration file the "
                        "homeserver loaded does not match this bridge's",
                        path);
            return matrixError(http::status::forbidden, "M_FORBIDDEN", "Bad token supplied");
    }
    // The id in a user or alias query is one a client gave the homeserver: held to the
    // spec's grammar before the bridge looks it up, registers it or creates a room for it.
    if ((m.route == Route::User && !isValidUserId(m.param)) ||
        (m.route == Route::Alias && !isValidRoomAlias(m.param))) {
        badRequests_.inc();
        return matrixError(http::status::bad_request, "M_INVALID_PARAM",
                           m.route == Route::User ? "Not a valid Matrix user id (at most 255 bytes)"
                                                  : "Not a valid Matrix room alias (at most 255 bytes)");
    }
    return std::nullopt;
}

RequestTerms AppserviceApi::termsFor(const http::request_header<>& header) const {
    std::string_view target(header.target().data(), header.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (HttpHandler* mounted = mountedFor(path)) return mounted->termsFor(header);
    // onHeaders() let it through, so a route that needs the hs_token had the right one.
    return RequestTerms{.bodyLimit = options_.maxBodyBytes,
                        .limitName = "appservice.max_body_bytes",
                        .fromHomeserver = needsAuth(match(header.method(), path).route)};
}

void AppserviceApi::onRequest(HttpRequest&& request, Responder respond) {
    std::string_view target(request.target().data(), request.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (HttpHandler* mounted = mountedFor(path)) {
        mounted->onRequest(std::move(request), std::move(respond));
        return;
    }
    Match m = match(request.method(), path);
    switch (m.route) {
        case Route::Transaction:
            handleTransaction(m.param, std::move(request), std::move(respond));
            return;
        case Route::Metrics: {
            HttpResponse r{http::status::ok, 11};
            r.set(http::field::content_type, "text/plain; version=0.0.4");
            r.body() = metrics_.renderPrometheus();
            respond(std::move(r));
            return;
        }
        case Route::Ping: {
            std::string txn;
            if (!request.body().empty()) {
                auto body = nlohmann::json::parse(request.body(), nullptr, false);
                if (body.is_discarded()) {
                    respond(matrixError(http::status::bad_request, "M_NOT_JSON", "body is not JSON"));
                    return;
                }
                if (body.is_object() && body.contains("transaction_id") &&
                    body["transaction_id"].is_string())
                    txn = body["transaction_id"].get<std::string>();
            }
            {
                std::lock_guard lock(pingMutex_);
                lastPingTxn_ = txn;
            }
            log_.info("homeserver ping received", {{"transaction_id", txn}});
            respond(emptyOk());
            return;
        }
        case Route::Health:
            answerHealth(std::move(respond));
            return;
        default:
            break;
    }
    std::string query(target.find('?') == std::string_view::npos
                          ? std::string_view() : target.substr(target.find('?') + 1));
    // Everything else may need the homeserver or the connector: off the HTTP threads.
    answerQuery(m, query, std::move(respond));
}

void AppserviceApi::answerHealth(Responder respond) {
    boost::asio::post(healthLane_, [this, respond = std::move(respond)] {
        try {
            std::string problem = queries_.healthProblem();
            nlohmann::json body = {{"status", problem.empty() ? "ok" : "unhealthy"}};
            if (!problem.empty()) body["problem"] = problem;
            respond(jsonResponse(problem.empty() ? http::status::ok : http::status::service_unavailable,
                                 body.dump()));
        } catch (const std::exception& e) {
            log_.error("health check failed", {{"error", e.what()}});
            respond(matrixError(http::status::internal_server_error, "M_UNKNOWN", "health check failed"));
        }
    });
}

void AppserviceApi::answerQuery(const Match& m, const std::string& query, Responder respond) {
    auto work = [this, m, query]() -> HttpResponse {
        try {
            switch (m.route) {
                case Route::User:
                    return queries_.queryUser(m.param)
                               ? emptyOk()
                               : matrixError(http::status::not_found, "M_NOT_FOUND",
                                             "This bridge does not provide that user");
                case Route::Alias:
                    return queries_.queryAlias(m.param)
                               ? emptyOk()
                               : matrixError(http::status::not_found, "M_NOT_FOUND",
                                             "This bridge does not provide that room alias");
                case Route::ThirdpartyProtocol: {
                    auto protocol = queries_.thirdpartyProtocol(m.param);
                    return protocol ? jsonResponse(http::status::ok, protocol->dump())
                                    : matrixError(http::status::not_found, "M_NOT_FOUND",
                                                  "No such protocol");
                }
                default:
                    break;
            }
            // Third-party lookups: fields come from the query string.
            std::map<std::string, std::string> fields;
            std::string_view rest = query;
            while (!rest.empty()) {
                size_t amp = rest.find('&');
                std::string_view pair = rest.substr(0, amp);
                size_t eq = pair.find('=');
                std::string key = percentDecode(pair.substr(0, eq));
                if (key != "access_token" && !key.empty())
                    fields[key] = eq == std::string_view::npos
                                      ? std::string()
                                      : TokenAuth::queryParam("?" + std::string(pair), key);
                if (amp == std::string_view::npos) break;
                rest.remove_prefix(amp + 1);
            }
            std::string kind = (m.route == Route::ThirdpartyUser ||
                                m.route == Route::ThirdpartyUserReverse) ? "user" : "location";
            nlohmann::json results = queries_.thirdpartyQuery(kind, m.param, fields);
            if (!results.is_array() || results.empty())
                return matrixError(http::status::not_found, "M_NOT_FOUND", "No results");
            return jsonResponse(http::status::ok, results.dump());
        } catch (const std::exception& e) {
            log_.error("query failed", {{"error", boundedForLog(e.what(), 1000)}});
            return matrixError(http::status::internal_server_error, "M_UNKNOWN",
                               "The bridge could not answer this query");
        }
    };
    // The answer a query gets at its deadline: 404, as the spec has no "not yet". `logged`
    // says what became of the work, `told` what the homeserver's user reads.
    auto notInTime = [this, param = m.param](const char* logged, const char* told) {
        return [this, param, logged, told] {
            if (auto heldBack = lateQueryWarnings_.pass()) {
                log_.warn(logged, {{"query", boundedForLog(param)},
                                   {"deadline_ms", static_cast<int64_t>(queryRunner_.deadline().count())},
                                   {"similar_warnings_held_back", *heldBack}});
            }
            return matrixError(http::status::not_found, "M_NOT_FOUND", told);
        };
    };
    // Answered in time even when the homeserver is slow to do what the query asked of it
    // (a room to create): the work carries on, so asking again shortly finds the room.
    auto late = notInTime("a query was not done in time and was answered 404; it goes on in the "
                          "background (is the homeserver slow?)",
                          "The bridge did not finish this in time; try again shortly");
    // A query that waited for a free thread past its deadline was never started, and will
    // not be: saying its work goes on would be false (issue 9 review, finding 8).
    auto unstarted = notInTime("a query waited past its deadline for a free query thread (all "
                               "were busy) and was answered 404 without being started",
                               "The bridge was too busy to start this in time and did nothing; ask again");
    queryRunner_.run(std::move(work), std::move(respond), std::move(late), std::move(unstarted));
}

void AppserviceApi::handleTransaction(const std::string& txnId, HttpRequest&& request,
                                      Responder respond) {
    auto started = std::chrono::steady_clock::now();
    thread_local TransactionParser parser;
    auto body = std::make_shared<std::string>(std::move(request.body()));
    ParseOutcome parsed = parser.parse(*body);
    if (parsed.status != ParseOutcome::Status::Ok) {
        badRequests_.inc();
        bool notJson = parsed.status == ParseOutcome::Status::NotJson;
        log_.warn("transaction refused as malformed; nothing of it was applied",
                  {{"txn_id", boundedForLog(txnId)}, {"error", boundedForLog(parsed.error, 1000)}});
        respond(matrixError(http::status::bad_request, notJson ? "M_NOT_JSON" : "M_BAD_JSON",
                            parsed.error));
        return;
    }
    Submission submission;
    submission.txnId = txnId;
    submission.body = std::move(body);
    submission.items = std::move(parsed.items);
    submission.onDone = [this, respond = std::move(respond), started](SubmitOutcome outcome) {
        if (outcome == SubmitOutcome::Failed) {
            respond(matrixError(http::status::internal_server_error, "M_UNKNOWN",
                                "The bridge could not store this transaction; retry later"));
            return;
        }
        ackSeconds_.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        respond(emptyOk());
    };
    journal_.submit(std::move(submission));
}

std::string AppserviceApi::lastPingTransactionId() const {
    std::lock_guard lock(pingMutex_);
    return lastPingTxn_;
}

}  // namespace mxbridge::detail
