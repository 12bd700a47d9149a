// A small HTTP/1.1 server on Boost.Beast for the receiving side. It exists because the ack
// path must look at the headers before reading the body: a request with a wrong token, or a
// Content-Length over the limit, is answered at once and its body is never buffered.
// (cpprestsdk's http_listener only hands over complete requests; see README "Why Beast".)
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

namespace mxbridge::detail {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

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
    // The largest body accepted; larger ones get 413.
    virtual uint64_t bodyLimit() const = 0;
    virtual void onRequest(HttpRequest&& request, Responder respond) = 0;
};

HttpResponse jsonResponse(http::status status, std::string body, unsigned version = 11);
HttpResponse matrixError(http::status status, const std::string& errcode, const std::string& error);

class HttpServer {
public:
    HttpServer(HttpHandler& handler, unsigned threads);
    ~HttpServer();

    // Binds and starts accepting; throws std::system_error naming the address on failure.
    void listen(const std::string& address, uint16_t port);
    uint16_t port() const { return port_; }
    // Stops accepting; lets requests in flight finish for up to `grace`, then closes all.
    void stop(std::chrono::milliseconds grace);

private:
    void accept();

    HttpHandler& handler_;
    unsigned threadCount_;
    boost::asio::io_context io_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::vector<std::thread> threads_;
    uint16_t port_ = 0;
    std::shared_ptr<std::atomic<int>> inFlight_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace mxbridge::detail
