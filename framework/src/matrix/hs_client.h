// Calls the homeserver's Client-Server API as the appservice (cpprestsdk). Blocking calls:
// use them from worker or startup threads, never from an HTTP I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mxbridge/log.h"
#include "ops/bridge_health.h"

namespace web::http::client {
class http_client;
}

namespace mxbridge::detail {

struct HsResponse {
    int status = 0;              // 0: no HTTP answer at all (see networkError)
    nlohmann::json body;         // parsed JSON body, or null
    std::string networkError;    // why there was no answer
    std::string raw;             // the body as received (media bytes for downloads)
    std::string contentType;     // Content-Type of the answer
    std::string contentDisposition;  // Content-Disposition of the answer (media downloads)
    bool tooLarge = false;           // download(): the body was over its limit and not kept
    std::optional<int64_t> retryAfterMs;  // from a Retry-After header, if any
    std::string errcode() const;
    std::string error() const;
    bool ok() const { return status >= 200 && status < 300; }
};

class HomeserverClient {
public:
    HomeserverClient(const std::string& baseUrl, Secret<std::string> asToken,
                     std::chrono::seconds timeout = std::chrono::seconds(30));
    ~HomeserverClient();

    // `path` starts with /_matrix; `asUser` asserts a namespaced identity (?user_id=).
    HsResponse call(const std::string& method, const std::string& path,
                    const std::optional<nlohmann::json>& body = std::nullopt,
                    const std::string& asUser = {},
                    const std::map<std::string, std::string>& query = {});

    // Non-JSON request or answer bodies (media upload and download): `bytes` is sent as is
    // with `contentType`; the answer's bytes are in HsResponse::raw (and `body` when JSON).
    HsResponse callRaw(const std::string& method, const std::string& path,
                       const std::string& bytes, const std::string& contentType,
                       const std::string& asUser = {},
                       const std::map<std::string, std::string>& query = {});

    // A GET of media bytes that reads at most `maxBytes` of the answer: a larger one (by its
    // Content-Length, or as it is read) is left unread and answered with `tooLarge` set.
    HsResponse download(const std::string& path, uint64_t maxBytes);

    const std::string& baseUrl() const { return baseUrl_; }
    // Every answer tells `health` whether the homeserver is reachable: no answer, or a
    // 502/503/504 from the proxy in front of it, is an outage; any other answer ends one.
    void reportTo(BridgeHealth& health) { health_ = &health; }

private:
    HsResponse send(const std::string& method, const std::string& path, const std::string* bytes,
                    const std::string& contentType, const std::string& asUser,
                    const std::map<std::string, std::string>& query,
                    std::optional<uint64_t> maxBytes = std::nullopt);

    std::string baseUrl_;
    Secret<std::string> asToken_;
    std::unique_ptr<web::http::client::http_client> client_;
    BridgeHealth* health_ = nullptr;
};

// Percent-encodes one path segment or query value: every byte but A-Z a-z 0-9 - . _ ~,
// and the dots of a "." or ".." segment. Every id and value the framework puts in a
// Client-Server API path or query goes through it (tests/unit/outbox/path_encoding_test.cpp).
std::string urlEncode(const std::string& s);

}  // namespace mxbridge::detail
