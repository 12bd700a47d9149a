// The harness's HttpClient behind a firewall: its HttpResponse shares its name with
// tests/support's test_http_server.h (an ambiguous name), so no file may include it beside HomeserverDouble.
// Requests as the homeserver sends them to the bridge go through AsClient instead.
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

inline namespace harness_http {
class HttpClient;
}

using AsHeaders = std::vector<std::pair<std::string, std::string>>;

// Mirrors the harness's HttpResponse.
struct AsResponse {
    int status = 0;
    AsHeaders headers;
    std::string body;
    std::chrono::microseconds elapsed{};
    bool requestFullySent = false;
    std::size_t bytesSent = 0;
    std::string writeError;

    std::string header(std::string_view name) const;  // case-insensitive; empty when absent
};

class AsClient {
public:
    explicit AsClient(std::uint16_t port, bool keepAlive = true);
    ~AsClient();
    AsClient(const AsClient&) = delete;
    AsClient& operator=(const AsClient&) = delete;

    AsResponse request(std::string_view method, std::string_view target, const AsHeaders& headers = {},
                       std::string body = {}, std::chrono::milliseconds timeout = 10s);
    AsResponse get(std::string_view target, const AsHeaders& headers = {},
                   std::chrono::milliseconds timeout = 10s);
    AsResponse put(std::string_view target, std::string body, const AsHeaders& headers = {},
                   std::chrono::milliseconds timeout = 10s);
    void close();

private:
    std::unique_ptr<HttpClient> client_;
};

}  // namespace mxbridge::test
