// A small HTTP/1.1 server on Boost.Beast for the receiving side. It exists because the ack
// path must look at the headers before reading the body: a request with a wrong token, or a
// Content-Length over the limit, is answered at once and its body is never buffered.
// (cpprestsdk's http_listener only hands over complete requests; see README "Why Beast".)
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>

#include "mxbridge/log.h"
#include "util/log_throttle.h"

namespace mxbridge::detail {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// What the server applies to one request, decided from its headers once they passed
// onHeaders().
struct RequestTerms {
    // The largest body read for it; more gets 413 with `limitName` in the message. Counted on
    // the bytes actually read, so a chunked body is held to it too.
    uint64_t bodyLimit = 0;
    std::string limitName;
    // It was authenticated as the homeserver: its connection is never evicted to make room
    // (connection_table.h) and may stay idle longer.
    bool fromHomeserver = false;
};

// Sends the one answer to a request. May be called from any thread, exactly once.
class Responder {
public:
    explicit Responder(std::function<void(HttpResponse&&)> send) : send_(std::move(send)) {}
    void operator()(HttpResponse&& response) const { send_(std::move(response)); }

private:
    std::function<void(HttpResponse&&)> send_;
};

class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    // Called once the headers are in. Return a response to answer now without reading the
    // body (the connection is then closed), or nothing to go on reading it.
    virtual std::optional<HttpResponse> onHeaders(const http::request_header<>& header) = 0;
    // The largest body accepted for any request; larger ones get 413.
    virtual uint64_t bodyLimit() const = 0;
    // The terms of a request onHeaders() let through; by default the listener-wide limit.
    virtual RequestTerms termsFor(const http::request_header<>& header) const {
        (void)header;
        return RequestTerms{.bodyLimit = bodyLimit(), .limitName = "appservice.max_body_bytes"};
    }
    virtual void onRequest(HttpRequest&& request, Responder respond) = 0;
};

HttpResponse jsonResponse(http::status status, std::string body, unsigned version = 11);
HttpResponse matrixError(http::status status, const std::string& errcode, const std::string& error);

class ConnectionTable;

class HttpServer {
public:
    // `maxConnections` 0: inboundConnectionCap() of the open-file limit at construction.
    HttpServer(HttpHandler& handler, unsigned threads, std::size_t maxConnections = 0);
    ~HttpServer();

    // Binds and starts accepting; throws std::system_error naming the address on failure.
    void listen(const std::string& address, uint16_t port);
    uint16_t port() const { return port_; }
    // Stops accepting; lets requests in flight finish for up to `grace`, then closes all.
    void stop(std::chrono::milliseconds grace);

    std::size_t maxConnections() const;

private:
    void accept();
    void acceptLater();

    HttpHandler& handler_;
    unsigned threadCount_;
    boost::asio::io_context io_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::vector<std::thread> threads_;
    uint16_t port_ = 0;
    std::shared_ptr<std::atomic<int>> inFlight_ = std::make_shared<std::atomic<int>>(0);
    // Shared with the sessions: a session may outlive the server in a worker's Responder.
    std::shared_ptr<ConnectionTable> connections_;
    std::unique_ptr<boost::asio::steady_timer> acceptRetry_;
    Logger log_{"http"};
    LogThrottle acceptFailures_{std::chrono::seconds(60)};
    LogThrottle refusals_{std::chrono::seconds(60)};
};

}  // namespace mxbridge::detail
