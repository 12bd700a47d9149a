#include "media/media_link_signer.h"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mxbridge/ids.h"

namespace mxbridge::detail {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Binds the MAC to this use of the key, should the same key ever sign something else.
constexpr std::string_view kDomain = "mxbridge media link v1\n";

int64_t systemNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<int64_t> parseExpiry(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// A file name for the end of a link: readable, and never able to change what the link is
// (no '/', '?', '#', '%', spaces or control characters survive).
std::string linkFileName(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (out.size() >= 80) break;
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '.' || c == '-' || c == '_';
        out += plain ? c : '_';
    }
    while (!out.empty() && out.front() == '.') out.erase(out.begin());  // no "." or ".." segment
    return out;
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(buffer >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
    return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;  // no whole byte ends there
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        size_t v = kAlphabet.find(c);
        if (v == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    // The leftover bits must be zero, so each byte string has one encoding only.
    if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

Secret<std::string> deriveMediaLinkKey(const Secret<std::string>& secret) {
    constexpr std::string_view kLabel = "mxbridge media link key v1";
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    const std::string& key = secret.reveal();
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(kLabel.data()),
         kLabel.size(), digest.data(), &length);
    return Secret<std::string>(base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), length)));
}

bool isLoopbackUrl(std::string_view url) {
    size_t scheme = url.find("://");
    if (scheme == std::string_view::npos) return true;
    std::string_view rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    std::string_view host = rest;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(1, host.find(']') - 1);
    } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    return host.empty() || host == "localhost" || host == "::1" || host == "0.0.0.0" ||
           host.rfind("127.", 0) == 0 || host.ends_with(".localhost");
}

MediaLinkSigner::MediaLinkSigner(MediaLinkOptions options, UnixClock now)
    : options_(std::move(options)), now_(now ? std::move(now) : UnixClock(systemNow)) {
    while (!options_.publicUrl.empty() && options_.publicUrl.back() == '/') options_.publicUrl.pop_back();
}

std::string MediaLinkSigner::mac(std::string_view signedPart) const {
    std::string message(kDomain);
    message += signedPart;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    const std::string& key = options_.signingKey.reveal();
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(), &length);
    return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

std::optional<std::string> MediaLinkSigner::token(std::string_view mxc) const {
    if (!enabled() || !isValidMxcUri(mxc)) return std::nullopt;
    const int64_t expiry = options_.lifetime.count() > 0 ? now_() + options_.lifetime.count() : 0;
    std::string signedPart = std::to_string(expiry) + "." + base64UrlEncode(mxc);
    return signedPart + "." + mac(signedPart);
}

std::optional<std::string> MediaLinkSigner::publicUrl(std::string_view mxc, std::string_view fileName) const {
    std::optional<std::string> t = token(mxc);
    if (!t) return std::nullopt;
    std::string url = options_.publicUrl + "/_mxbridge/media/" + *t;
    if (std::string name = linkFileName(fileName); !name.empty()) url += "/" + name;
    return url;
}

Result<std::string> MediaLinkSigner::verify(std::string_view token) const {
    auto malformed = [] { return Error::permanent("malformed", "not a media link of this bridge"); };
    if (!enabled()) return Error::permanent("disabled", "this bridge serves no media links");
    if (token.size() > 1024) return malformed();
    const size_t firstDot = token.find('.');
    const size_t lastDot = token.rfind('.');
    if (firstDot == std::string_view::npos || firstDot == lastDot) return malformed();
    const std::string_view signedPart = token.substr(0, lastDot);
    const std::string expected = mac(signedPart);
    const std::string_view given = token.substr(lastDot + 1);
    if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0)
        return Error::permanent("forged", "this media link was not made by this bridge, or was changed");
    std::optional<int64_t> expiry = parseExpiry(token.substr(0, firstDot));
    std::optional<std::string> mxc = base64UrlDecode(token.substr(firstDot + 1, lastDot - firstDot - 1));
    if (!expiry || !mxc || !isValidMxcUri(*mxc)) return malformed();
    if (*expiry != 0 && now_() > *expiry) return Error::permanent("expired", "this media link has expired");
    return *mxc;
}

}  // namespace mxbridge::detail
