#include "matrix/hs_client.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include "mxbridge/format/percent_encoding.h"

namespace mxbridge::detail {

namespace {

// At most `maxBytes` of an answer's body; one byte more and the rest is left unread.
std::string readBounded(web::http::http_response& response, uint64_t maxBytes, bool& tooLarge) {
    tooLarge = false;
    const auto& headers = response.headers();
    if (headers.has(web::http::header_names::content_length) && headers.content_length() > maxBytes) {
        tooLarge = true;
        return {};
    }
    concurrency::streams::container_buffer<std::string> buffer;
    auto body = response.body();
    uint64_t total = 0;
    for (;;) {
        const size_t read = body.read(buffer, 64 * 1024).get();
        if (read == 0) break;
        total += read;
        if (total > maxBytes) {
            tooLarge = true;
            return {};
        }
    }
    // The buffer grows by what each read asked for, not what it got: keep what was read.
    std::string bytes = std::move(buffer.collection());
    bytes.resize(static_cast<size_t>(total));
    return bytes;
}

}  // namespace

std::string HsResponse::errcode() const {
    if (body.is_object() && body.contains("errcode") && body["errcode"].is_string())
        return body["errcode"].get<std::string>();
    return {};
}

std::string HsResponse::error() const {
    if (!networkError.empty()) return networkError;
    if (body.is_object() && body.contains("error") && body["error"].is_string())
        return body["error"].get<std::string>();
    return "HTTP " + std::to_string(status);
}

std::string urlEncode(const std::string& s) {
    // A segment of only dots is a step in the path to clients and proxies that normalise
    // it (RFC 3986 5.2.4: "/state/x/.." would lose the "x"); encoded, it stays a value.
    if (s == "." || s == "..") return s == "." ? "%2E" : "%2E%2E";
    return format::percentEncode(s);
}

HomeserverClient::HomeserverClient(const std::string& baseUrl, Secret<std::string> asToken,
                                   std::chrono::seconds timeout)
    : baseUrl_(baseUrl), asToken_(std::move(asToken)) {
    web::http::client::http_client_config config;
    config.set_timeout(timeout);
    client_ = std::make_unique<web::http::client::http_client>(baseUrl_, config);
}

HomeserverClient::~HomeserverClient() = default;

HsResponse HomeserverClient::call(const std::string& method, const std::string& path,
                                  const std::optional<nlohmann::json>& body,
                                  const std::string& asUser,
                                  const std::map<std::string, std::string>& query) {
    if (!body) return send(method, path, nullptr, {}, asUser, query);
    std::string text = body->dump();
    return send(method, path, &text, "application/json", asUser, query);
}

HsResponse HomeserverClient::callRaw(const std::string& method, const std::string& path,
                                     const std::string& bytes, const std::string& contentType,
                                     const std::string& asUser,
                                     const std::map<std::string, std::string>& query) {
    return send(method, path, &bytes, contentType, asUser, query);
}

HsResponse HomeserverClient::download(const std::string& path, uint64_t maxBytes) {
    return send("GET", path, nullptr, {}, {}, {}, maxBytes);
}

HsResponse HomeserverClient::send(const std::string& method, const std::string& path,
                                  const std::string* bytes, const std::string& contentType,
                                  const std::string& asUser,
                                  const std::map<std::string, std::string>& query,
                                  std::optional<uint64_t> maxBytes) {
    std::string target = path;
    char sep = target.find('?') == std::string::npos ? '?' : '&';
    if (!asUser.empty()) {
        target += sep + std::string("user_id=") + urlEncode(asUser);
        sep = '&';
    }
    for (const auto& [k, v] : query) {
        target += sep + urlEncode(k) + "=" + urlEncode(v);
        sep = '&';
    }
    web::http::http_request request(method);
    request.set_request_uri(target);
    request.headers().add("Authorization", "Bearer " + asToken_.reveal());
    if (bytes) {
        if (contentType == "application/json") {
            request.set_body(*bytes, contentType);
        } else {
            // set_body(std::string) would treat the bytes as UTF-8 text; media goes as is.
            request.set_body(std::vector<unsigned char>(bytes->begin(), bytes->end()));
            request.headers().set_content_type(contentType);
        }
    }
    HsResponse out;
    try {
        auto response = client_->request(request).get();
        out.status = response.status_code();
        out.contentType = response.headers().content_type();
        if (auto it = response.headers().find("Retry-After"); it != response.headers().end()) {
            try {
                out.retryAfterMs = static_cast<int64_t>(std::stod(it->second) * 1000);
            } catch (const std::exception&) {
                // An HTTP date instead of seconds: ignored, the body's retry_after_ms or
                // the caller's back-off applies.
            }
        }
        if (auto it = response.headers().find("Content-Disposition"); it != response.headers().end())
            out.contentDisposition = it->second;
        if (maxBytes) {
            out.raw = readBounded(response, *maxBytes, out.tooLarge);
        } else {
            std::vector<unsigned char> data = response.extract_vector().get();
            out.raw.assign(data.begin(), data.end());
        }
        out.body = nlohmann::json::parse(out.raw, nullptr, false);
        if (out.body.is_discarded()) out.body = nullptr;
    } catch (const std::exception& e) {
        out.status = 0;
        out.networkError = e.what();
    }
    if (health_) {
        if (out.status == 0 || out.status == 502 || out.status == 503 || out.status == 504)
            health_->failing(HealthPart::Homeserver, "homeserver unreachable", out.error());
        else
            health_->recovered(HealthPart::Homeserver);
    }
    return out;
}

}  // namespace mxbridge::detail
