// Signed media links (framework/src/media): who can open which file until when, and how the
// endpoint answers each kind of link before and after fetching anything.
#include <doctest/doctest.h>

#include <future>

#include "media/media_endpoint.h"
#include "media/media_link_signer.h"
#include "mxbridge/ids.h"
#include "mxbridge/metrics.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMxc = "mxc://hs.test/AbCdEf_123-xyz";
constexpr const char* kOtherMxc = "mxc://hs.test/SomethingElse";

struct SignerRig {
    int64_t now = 1'800'000'000;
    MediaLinkSigner make(std::string key = "a signing key of enough length, 32+", std::chrono::seconds lifetime = 0s) {
        return MediaLinkSigner({.publicUrl = "https://bridge.example.org/",
                                .signingKey = Secret<std::string>(std::move(key)),
                                .lifetime = lifetime},
                               [this] { return now; });
    }
};

std::string tokenIn(const std::string& url) {
    const std::string prefix = "https://bridge.example.org/_mxbridge/media/";
    REQUIRE(url.rfind(prefix, 0) == 0);
    std::string rest = url.substr(prefix.size());
    return rest.substr(0, rest.find('/'));
}

}  // namespace

TEST_CASE("a media link names its file, and the token in it reads back as that mxc URI") {
    SignerRig rig;
    MediaLinkSigner signer = rig.make();
    std::optional<std::string> url = signer.publicUrl(kMxc, "holiday photo.jpg");
    REQUIRE(url.has_value());
    CHECK(url->find("https://bridge.example.org/_mxbridge/media/") == 0);
    CHECK(url->ends_with("/holiday_photo.jpg"));
    CHECK(url->find("/_matrix/") == std::string::npos);
    Result<std::string> back = signer.verify(tokenIn(*url));
    REQUIRE(back.ok());
    CHECK(back.value() == kMxc);
}

TEST_CASE("a forged, altered, another key's or another file's token is refused as forged") {
    SignerRig rig;
    MediaLinkSigner signer = rig.make();
    std::string token = tokenIn(*signer.publicUrl(kMxc));
    std::string other = tokenIn(*signer.publicUrl(kOtherMxc));

    // The mxc part of one link with the signature of another.
    std::string swapped = token.substr(0, token.rfind('.')) + other.substr(other.rfind('.'));
    CHECK(signer.verify(swapped).error().code == "forged");
    // One character of the signature changed.
    std::string flipped = token;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    CHECK(signer.verify(flipped).error().code == "forged");
    // A longer expiry written in.
    std::string extended = "9" + token;
    CHECK(signer.verify(extended).error().code == "forged");
    // Made with another key.
    MediaLinkSigner stranger = rig.make("somebody else's key, also long enough");
    CHECK(signer.verify(tokenIn(*stranger.publicUrl(kMxc))).error().code == "forged");
    // Not a token at all.
    for (const std::string& junk : std::vector<std::string>{"", ".", "..", "abc", "0.bXhj", std::string(2000, 'a') + ".b.c"})
        CHECK_FALSE(signer.verify(junk).ok());
}

TEST_CASE("a link with a lifetime works until it expires, then is refused as expired") {
    SignerRig rig;
    MediaLinkSigner signer = rig.make("a signing key of enough length, 32+", 3600s);
    std::string token = tokenIn(*signer.publicUrl(kMxc));
    rig.now += 3599;
    CHECK(signer.verify(token).ok());
    rig.now += 2;
    CHECK(signer.verify(token).error().code == "expired");
    // Without a lifetime a link does not expire.
    MediaLinkSigner forever = rig.make();
    std::string kept = tokenIn(*forever.publicUrl(kMxc));
    rig.now += 10LL * 365 * 24 * 3600;
    CHECK(forever.verify(kept).ok());
}

TEST_CASE("no link is made for a text that is not an mxc URI, nor without a signing key") {
    SignerRig rig;
    MediaLinkSigner signer = rig.make();
    for (const char* bad : {"https://evil.example/x", "mxc://hs.test/../../_matrix/client/v3/rooms",
                            "mxc://hs.test/a?b", "mxc://hs.test/", "mxc://bad server/x", "mxc://hs.test/a/b"})
        CHECK_FALSE(signer.publicUrl(bad).has_value());
    MediaLinkSigner off = rig.make("");
    CHECK_FALSE(off.enabled());
    CHECK_FALSE(off.publicUrl(kMxc).has_value());
    CHECK(off.verify("0.bXhj.x").error().code == "disabled");
}

TEST_CASE("isValidMxcUri takes server name and media id only") {
    CHECK(isValidMxcUri("mxc://example.org/SEsfnsuifSDFSSEF"));
    CHECK(isValidMxcUri("mxc://[::1]:8448/abc-_1"));
    CHECK_FALSE(isValidMxcUri("mxc://example.org/a%2Fb"));
    CHECK_FALSE(isValidMxcUri("mxc://example.org"));
    CHECK_FALSE(isValidMxcUri("http://example.org/abc"));
}

TEST_CASE("base64url round-trips every byte and refuses other alphabets and loose bits") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (size_t n = 0; n < 8; ++n) CHECK(base64UrlDecode(base64UrlEncode(all.substr(0, n))) == all.substr(0, n));
    CHECK(base64UrlDecode(base64UrlEncode(all)) == all);
    CHECK_FALSE(base64UrlDecode("ab+/").has_value());
    CHECK_FALSE(base64UrlDecode("ab==").has_value());
    CHECK_FALSE(base64UrlDecode("A").has_value());
    CHECK(base64UrlDecode("AA") == std::string(1, '\0'));
    CHECK_FALSE(base64UrlDecode("AF").has_value());  // the low bits of the last character must be 0
}

TEST_CASE("files are shown inline only when a browser runs nothing of them, and keep only a plain name") {
    CHECK(safeContentDisposition("inline; filename=\"cat.png\"", "image/png") == "inline; filename=\"cat.png\"");
    CHECK(safeContentDisposition("", "text/plain; charset=utf-8") == "inline");
    CHECK(safeContentDisposition("inline; filename=page.html", "text/html") == "attachment; filename=\"page.html\"");
    CHECK(safeContentDisposition("", "image/svg+xml") == "attachment");
    CHECK(safeContentDisposition("attachment; filename=\"../../etc/passwd\"", "application/pdf") == "attachment");
    CHECK(safeContentDisposition("attachment; filename=\"a\r\nSet-Cookie: x\"", "image/png") == "inline");
}

namespace {

struct EndpointRig {
    SignerRig clock;
    MediaLinkSigner signer = clock.make("a signing key of enough length, 32+", 60s);
    Metrics metrics;
    std::atomic<int> fetches{0};
    std::string lastMxc;
    MediaEndpoint endpoint{signer,
                           [this](const std::string& mxc, uint64_t maxBytes) -> Result<FetchedMedia> {
                               ++fetches;
                               lastMxc = mxc;
                               if (mxc == kOtherMxc) return Error::permanent("not_found", "M_NOT_FOUND");
                               std::string bytes = "<script>alert(1)</script>";
                               if (bytes.size() > maxBytes) return Error::permanent("too_large", "big");
                               return FetchedMedia{.bytes = bytes,
                                                   .contentType = "text/html",
                                                   .contentDisposition = "inline; filename=\"x.html\""};
                           },
                           1024, metrics};

    static http::request_header<> get(const std::string& target, http::verb verb = http::verb::get) {
        http::request<http::string_body> request{verb, target, 11};
        return request.base();
    }
    HttpResponse fetch(const std::string& target) {
        http::request_header<> header = get(target);
        if (auto early = endpoint.onHeaders(header)) return *early;
        std::promise<HttpResponse> answered;
        endpoint.onRequest(HttpRequest{http::verb::get, target, 11},
                           Responder([&](HttpResponse&& r) { answered.set_value(std::move(r)); }));
        auto future = answered.get_future();
        REQUIRE(future.wait_for(5s) == std::future_status::ready);
        return future.get();
    }
};

}  // namespace

TEST_CASE("the media endpoint serves a signed link's file sandboxed, and refuses forged and expired links unfetched") {
    EndpointRig rig;
    const std::string path = rig.signer.publicUrl(kMxc, "x.html")->substr(std::string("https://bridge.example.org").size());
    HttpResponse ok = rig.fetch(path);
    CHECK(ok.result() == http::status::ok);
    CHECK(rig.lastMxc == kMxc);
    CHECK(ok.body() == "<script>alert(1)</script>");
    CHECK(ok[http::field::content_disposition] == "attachment; filename=\"x.html\"");
    CHECK(std::string(ok["Content-Security-Policy"]).rfind("sandbox", 0) == 0);
    CHECK(ok["X-Content-Type-Options"] == "nosniff");

    std::string token = tokenIn("https://bridge.example.org" + path);
    std::string forged = "/_mxbridge/media/" + token.substr(0, token.size() - 1) + (token.back() == 'A' ? "B" : "A");
    const int before = rig.fetches;
    CHECK(rig.fetch(forged).result() == http::status::forbidden);
    CHECK(rig.fetch("/_mxbridge/media/nonsense").result() == http::status::not_found);
    rig.clock.now += 61;
    CHECK(rig.fetch(path).result() == http::status::gone);
    CHECK(rig.fetches == before);  // nothing was asked of the homeserver for them

    http::request_header<> post = EndpointRig::get(path, http::verb::post);
    auto refused = rig.endpoint.onHeaders(post);
    REQUIRE(refused.has_value());
    CHECK(refused->result() == http::status::method_not_allowed);
}

TEST_CASE("a file the homeserver does not have is 404, one over media.max_bytes is refused") {
    EndpointRig rig;
    const std::string base = "https://bridge.example.org";
    CHECK(rig.fetch(rig.signer.publicUrl(kOtherMxc)->substr(base.size())).result() == http::status::not_found);
    MediaEndpoint small{rig.signer,
                        [](const std::string&, uint64_t maxBytes) -> Result<FetchedMedia> {
                            if (maxBytes < 100) return Error::permanent("too_large", "over");
                            return FetchedMedia{};
                        },
                        10, rig.metrics};
    std::string target = rig.signer.publicUrl(kMxc)->substr(base.size());
    REQUIRE_FALSE(small.onHeaders(EndpointRig::get(target)).has_value());
    std::promise<HttpResponse> answered;
    small.onRequest(HttpRequest{http::verb::get, target, 11},
                    Responder([&](HttpResponse&& r) { answered.set_value(std::move(r)); }));
    HttpResponse r = answered.get_future().get();
    CHECK(r.result() == http::status::bad_gateway);
    CHECK(r.body().find("media.max_bytes") != std::string::npos);
}

TEST_CASE("a key derived from the as_token is stable, depends on the token, and is not the token") {
    Secret<std::string> a = deriveMediaLinkKey(Secret<std::string>("as_token_one"));
    CHECK(a.reveal() == deriveMediaLinkKey(Secret<std::string>("as_token_one")).reveal());
    CHECK(a.reveal() != deriveMediaLinkKey(Secret<std::string>("as_token_two")).reveal());
    CHECK(a.reveal().size() >= 32);
    CHECK(a.reveal().find("as_token_one") == std::string::npos);
}

TEST_CASE("links pointing at this machine only are told apart from public ones") {
    for (const char* local : {"http://localhost:29300", "http://127.0.0.1:8", "http://[::1]:9/x", "http://0.0.0.0",
                              "https://user@localhost/", "nonsense", "http://a.localhost"})
        CHECK_MESSAGE(isLoopbackUrl(local), local);
    for (const char* remote : {"https://bridge.example.org", "http://10.0.0.5:29300", "https://[2001:db8::1]/"})
        CHECK_FALSE_MESSAGE(isLoopbackUrl(remote), remote);
}
