#include "media/media_endpoint.h"

#include <boost/asio/post.hpp>

#include "matrix/media_download.h"

namespace mxbridge::detail {

namespace {

constexpr const char* kSandbox = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

// Types a browser shows without running anything: what may be shown inline.
bool showableInline(const std::string& contentType) {
    std::string type = contentType.substr(0, contentType.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type == "image/svg+xml") return false;  // may carry script
    return type.rfind("image/", 0) == 0 || type.rfind("audio/", 0) == 0 || type.rfind("video/", 0) == 0 ||
           type == "text/plain";
}

// The filename parameter of a Content-Disposition value, if it is a plain one.
std::string plainFileName(const std::string& disposition) {
    size_t at = disposition.find("filename=");
    if (at == std::string::npos) return {};
    std::string name = disposition.substr(at + 9);
    if (!name.empty() && name.front() == '"') {
        size_t close = name.find('"', 1);
        if (close == std::string::npos) return {};
        name = name.substr(1, close - 1);
    } else {
        name = name.substr(0, name.find(';'));
    }
    if (name.empty() || name.size() > 200 || name == "." || name == "..") return {};
    for (unsigned char c : name)
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' || c == ';') return {};
    return name;
}

HttpResponse plainError(http::status status, const std::string& text, unsigned version) {
    HttpResponse response{status, version};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.set(http::field::cache_control, "no-store");
    response.body() = text + "\n";
    return response;
}

}  // namespace

std::string safeContentDisposition(const std::string& fromHomeserver, const std::string& contentType) {
    std::string value = showableInline(contentType) ? "inline" : "attachment";
    if (std::string name = plainFileName(fromHomeserver); !name.empty()) value += "; filename=\"" + name + "\"";
    return value;
}

MediaEndpoint::MediaEndpoint(const MediaLinkSigner& links, MediaFetch fetch, uint64_t maxBytes, Metrics& metrics,
                             unsigned concurrency)
    : links_(links),
      fetch_(std::move(fetch)),
      maxBytes_(maxBytes),
      served_(metrics.counter("mxbridge_media_links_served_total",
                              "Files served to remote users through signed media links")),
      refused_(metrics.counter("mxbridge_media_links_refused_total",
                               "Media link requests refused (forged, expired, malformed, too large, failed)")),
      pool_(concurrency) {}

MediaEndpoint::~MediaEndpoint() { stop(); }

void MediaEndpoint::stop() {
    if (stopped_.exchange(true)) return;
    pool_.join();
}

Result<std::string> MediaEndpoint::mxcOf(std::string_view target) const {
    std::string_view path = target.substr(0, target.find('?'));
    path.remove_prefix(kPrefix.size());
    return links_.verify(path.substr(0, path.find('/')));  // a name after the token is for people
}

std::optional<HttpResponse> MediaEndpoint::onHeaders(const http::request_header<>& header) {
    const unsigned version = header.version();
    if (header.method() != http::verb::get && header.method() != http::verb::head) {
        refused_.inc();
        HttpResponse response = plainError(http::status::method_not_allowed, "only GET and HEAD", version);
        response.set(http::field::allow, "GET, HEAD");
        return response;
    }
    Result<std::string> mxc = mxcOf(std::string_view(header.target().data(), header.target().size()));
    if (mxc.ok()) return std::nullopt;
    refused_.inc();
    const std::string& code = mxc.error().code;
    if (code == "forged") return plainError(http::status::forbidden, mxc.error().message, version);
    if (code == "expired") return plainError(http::status::gone, mxc.error().message, version);
    return plainError(http::status::not_found, mxc.error().message, version);
}

void MediaEndpoint::onRequest(HttpRequest&& request, Responder respond) {
    const unsigned version = request.version();
    const bool headOnly = request.method() == http::verb::head;
    Result<std::string> mxc = mxcOf(std::string_view(request.target().data(), request.target().size()));
    if (!mxc.ok() || stopped_) {  // onHeaders() checked it; stopping meanwhile
        respond(plainError(http::status::service_unavailable, "try again later", version));
        return;
    }
    boost::asio::post(pool_, [this, mxc = mxc.value(), headOnly, version, respond = std::move(respond)] {
        HttpResponse response = plainError(http::status::internal_server_error, "failed", version);
        try {
            response = serve(mxc, headOnly, version);
        } catch (const std::exception& e) {
            log_.error("serving a media link failed", {{"mxc", mxc}, {"error", e.what()}});
        }
        respond(std::move(response));
    });
}

HttpResponse MediaEndpoint::serve(const std::string& mxc, bool headOnly, unsigned version) {
    Result<FetchedMedia> fetched = fetch_(mxc, maxBytes_);
    if (!fetched.ok()) {
        refused_.inc();
        const Error& e = fetched.error();
        log_.info("a media link could not be served", {{"mxc", mxc}, {"code", e.code}, {"reason", e.message}});
        if (e.code == "not_found") return plainError(http::status::not_found, "no such file on the homeserver", version);
        if (e.code == "too_large")
            return plainError(http::status::bad_gateway,
                              "the file is larger than this bridge serves (media.max_bytes = " +
                                  std::to_string(maxBytes_) + " bytes)",
                              version);
        if (e.code == "unreachable")
            return plainError(http::status::gateway_timeout, "the homeserver did not answer; try again later", version);
        return plainError(http::status::bad_gateway, "the homeserver refused the file", version);
    }
    served_.inc();
    FetchedMedia& media = fetched.value();
    const std::string type = media.contentType.empty() ? "application/octet-stream" : media.contentType;
    HttpResponse response{http::status::ok, version};
    response.set(http::field::content_type, type);
    response.set(http::field::content_disposition, safeContentDisposition(media.contentDisposition, type));
    response.set("Content-Security-Policy", kSandbox);
    response.set("X-Content-Type-Options", "nosniff");
    response.set(http::field::cache_control, "private, max-age=3600");
    response.body() = std::move(media.bytes);
    if (headOnly) response.body().clear();
    return response;
}

MediaFetch homeserverMediaFetch(HomeserverClient& homeserver, std::function<bool()> authenticatedMedia) {
    return [&homeserver, authenticatedMedia = std::move(authenticatedMedia)](
               const std::string& mxc, uint64_t maxBytes) -> Result<FetchedMedia> {
        HsResponse r = downloadMedia(mxc, authenticatedMedia(), [&](const std::string& path) {
            return homeserver.download(path, maxBytes);
        });
        if (r.tooLarge) return Error::permanent("too_large", "larger than " + std::to_string(maxBytes) + " bytes");
        if (r.status == 0) return Error::transient("unreachable", r.error());
        if (r.status == 404) return Error::permanent("not_found", r.error());
        if (!r.ok()) return Error::permanent(r.errcode().empty() ? "refused" : r.errcode(), r.error());
        return FetchedMedia{.bytes = std::move(r.raw),
                            .contentType = r.contentType,
                            .contentDisposition = r.contentDisposition};
    };
}

}  // namespace mxbridge::detail
