// GET /_mxbridge/media/<token>[/<name>]: the file a signed media link names, fetched from the
// homeserver with the bridge's own token (media_link_signer.h makes the links). A forged or
// changed link is refused with 403, an expired one with 410, before anything is fetched.
// Files are served so that a browser opening one runs nothing from the bridge's origin:
// `Content-Security-Policy: sandbox`, `X-Content-Type-Options: nosniff`, and only images,
// audio, video and plain text inline; everything else as an attachment.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "appservice/http_server.h"
#include "matrix/hs_client.h"
#include "media/media_link_signer.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"

namespace mxbridge::detail {

struct FetchedMedia {
    std::string bytes;
    std::string contentType;         // as the homeserver said; empty: application/octet-stream
    std::string contentDisposition;  // as the homeserver said, for the file's name
};

// The file `mxc` names, at most `maxBytes` of it. Errors by code: "not_found" (404),
// "too_large", "unreachable" (no answer); anything else is the homeserver refusing.
using MediaFetch = std::function<Result<FetchedMedia>(const std::string& mxc, uint64_t maxBytes)>;

class MediaEndpoint final : public HttpHandler {
public:
    static constexpr std::string_view kPrefix = "/_mxbridge/media/";
    static bool handles(std::string_view path) { return path.substr(0, kPrefix.size()) == kPrefix; }

    // `maxBytes`: media.max_bytes. Up to `concurrency` files are fetched at once; more wait.
    MediaEndpoint(const MediaLinkSigner& links, MediaFetch fetch, uint64_t maxBytes, Metrics& metrics,
                  unsigned concurrency = 4);
    ~MediaEndpoint() override;
    // Stops taking requests and waits for the fetches in flight. Idempotent.
    void stop();

    std::optional<HttpResponse> onHeaders(const http::request_header<>& header) override;
    uint64_t bodyLimit() const override { return 0; }  // a GET has no body
    void onRequest(HttpRequest&& request, Responder respond) override;

private:
    // The token in a path, and what checking it found.
    Result<std::string> mxcOf(std::string_view target) const;
    HttpResponse serve(const std::string& mxc, bool headOnly, unsigned version);

    const MediaLinkSigner& links_;
    MediaFetch fetch_;
    uint64_t maxBytes_;
    Counter& served_;
    Counter& refused_;
    Logger log_{"media"};
    std::atomic<bool> stopped_{false};
    boost::asio::thread_pool pool_;
};

// Fetches from the homeserver with the bridge's token (matrix/media_download.h);
// `authenticatedMedia` says whether it knows the v1.11 endpoint (asked at each fetch).
MediaFetch homeserverMediaFetch(HomeserverClient& homeserver, std::function<bool()> authenticatedMedia);

// Content-Disposition for a file the homeserver described with `fromHomeserver`: its file
// name kept when it is plain (quoted-string safe, no path), `inline` only for `contentType`s
// a browser shows without running anything.
std::string safeContentDisposition(const std::string& fromHomeserver, const std::string& contentType);

}  // namespace mxbridge::detail
