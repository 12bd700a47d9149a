// A small synchronous HTTP/1.1 client for tests (Beast underneath, hidden from includers).
// Besides ordinary requests it can watch a server refuse an upload: the response is read while
// the body is still being written, so an early 401/413 and close is observed, not lost to EPIPE.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxbridge::test {

using namespace std::chrono_literals;

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// tests/support/test_http_server.h has its own mxbridge::test::HttpResponse; a test linking
// both (HttpClient beside HomeserverDouble) broke the one-definition rule and crashed in
// ~HttpResponse. The inline namespace gives these types their own symbols.
inline namespace harness_http {

struct HttpResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;
    // From the first byte sent to the last byte of the response read.
    std::chrono::microseconds elapsed{};
    // False when the server answered (and maybe closed) before taking the whole request body.
    bool requestFullySent = false;
    std::size_t bytesSent = 0;
    // Why the write stopped early ("Broken pipe", "Connection reset by peer"), or empty.
    std::string writeError;

    // Case-insensitive lookup; empty when absent.
    std::string header(std::string_view name) const;
};

class HttpClient {
public:
    // Requests go to 127.0.0.1:port. With keepAlive the connection is reused while the server
    // allows it; a stale reused connection is retried once on a fresh one.
    explicit HttpClient(std::uint16_t port, bool keepAlive = true);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // `target` is the path plus query. Adds Host and Content-Length. Throws HarnessError when
    // no complete response arrives before `timeout` (connect included) or the connection fails
    // without one; any HTTP status, 5xx included, is a normal return.
    HttpResponse request(std::string_view method, std::string_view target,
                         const HttpHeaders& headers = {}, std::string body = {},
                         std::chrono::milliseconds timeout = 10s);
    HttpResponse get(std::string_view target, const HttpHeaders& headers = {},
                     std::chrono::milliseconds timeout = 10s);
    HttpResponse put(std::string_view target, std::string body, const HttpHeaders& headers = {},
                     std::chrono::milliseconds timeout = 10s);

    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace harness_http
}  // namespace mxbridge::test
