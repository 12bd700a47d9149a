// A small real HTTP/1.1 server on 127.0.0.1 for tests (Boost.Beast): one accept thread,
// one thread per connection, a synchronous handler. Used by HomeserverDouble and handy as
// a stand-in appservice in tests.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "spec_catalog.h"  // StringMap

namespace mxbridge::test {

struct HttpRequest {
    std::string method;  ///< upper case
    std::string target;  ///< raw path + query
    std::string path;    ///< raw (percent-encoded) path
    StringMap query;     ///< decoded
    StringMap headers;   ///< names lower-cased
    std::string body;
};

struct HttpResponse {
    int status = 200;
    StringMap headers;
    std::string body;
    /// Misbehaviours for testing clients: send no Content-Length (body ends at close), or
    /// close the connection without answering.
    bool omitContentLength = false;
    bool dropConnection = false;

    static HttpResponse json(int status, const nlohmann::json& body);
    static HttpResponse error(int status, const std::string& errcode, const std::string& message);
};

class TestHttpServer {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    /// Listens on 127.0.0.1:`port` (0: an ephemeral port) at once.
    explicit TestHttpServer(Handler handler, std::uint16_t port = 0);
    ~TestHttpServer();
    TestHttpServer(const TestHttpServer&) = delete;
    TestHttpServer& operator=(const TestHttpServer&) = delete;

    std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:<port>"
    std::string url() const;

    /// Closes the listening socket (new connections are refused) and resets open ones.
    void stopListening();
    /// Listens again on the same port.
    void resumeListening();
    bool listening() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
};

/// The answer of an outgoing call made with httpCall.
struct HttpCallResult {
    bool connected = false;  ///< false: refused/unreachable (see error)
    bool timedOut = false;
    int status = 0;
    StringMap headers;  ///< names lower-cased
    std::string body;
    bool hadContentLength = false;
    std::string error;
};

/// One blocking HTTP/1.1 request to `baseUrl` ("http://host:port") + `target`.
HttpCallResult httpCall(const std::string& baseUrl, const std::string& method,
                        const std::string& target, const StringMap& headers,
                        const std::string& body, std::chrono::milliseconds timeout);

}  // namespace mxbridge::test
