#include "mxbridge/slack/request_signature.h"

#include <array>
#include <charconv>
#include <cstdint>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace mxbridge::slack {

namespace {

constexpr std::string_view kVersionPrefix = "v0=";
constexpr std::size_t kDigestBytes = 32;

std::array<unsigned char, kDigestBytes> hmacSha256(std::string_view key, std::string_view timestamp,
                                                   std::string_view body) {
    // HMAC over "v0:" timestamp ":" body, fed in pieces so the body is never copied.
    std::array<unsigned char, kDigestBytes> digest{};
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    char digestName[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digestName, 0),
                           OSSL_PARAM_construct_end()};
    auto update = [ctx](std::string_view piece) {
        return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(piece.data()), piece.size()) == 1;
    };
    std::size_t length = 0;
    bool ok = ctx &&
              EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1 &&
              update("v0:") && update(timestamp) && update(":") && update(body) &&
              EVP_MAC_final(ctx, digest.data(), &length, digest.size()) == 1;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok || length != kDigestBytes) digest.fill(0);  // its hex never matches a real signature
    return digest;
}

std::string toHex(const std::array<unsigned char, kDigestBytes>& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

}  // namespace

std::string_view describe(SignatureVerdict verdict) {
    switch (verdict) {
        case SignatureVerdict::Valid: return "valid";
        case SignatureVerdict::MissingHeaders:
            return "X-Slack-Request-Timestamp or X-Slack-Signature is missing";
        case SignatureVerdict::MalformedTimestamp:
            return "X-Slack-Request-Timestamp is not a number of seconds";
        case SignatureVerdict::StaleTimestamp:
            return "X-Slack-Request-Timestamp is more than 5 minutes from now (replayed, or the "
                   "clock is off: check NTP)";
        case SignatureVerdict::BadSignature:
            return "X-Slack-Signature does not match the body (wrong signing secret, or not from Slack)";
    }
    return "unknown";
}

RequestVerifier::RequestVerifier(std::string signingSecret, std::chrono::seconds window)
    : secret_(std::move(signingSecret)), window_(window) {}

std::string RequestVerifier::sign(std::string_view timestamp, std::string_view body) const {
    return std::string(kVersionPrefix) + toHex(hmacSha256(secret_, timestamp, body));
}

SignatureVerdict RequestVerifier::verify(const SignedRequest& request,
                                         std::chrono::system_clock::time_point now) const {
    if (request.timestamp.empty() || request.signature.empty()) return SignatureVerdict::MissingHeaders;
    int64_t seconds = 0;
    const char* first = request.timestamp.data();
    const char* last = first + request.timestamp.size();
    auto [end, ec] = std::from_chars(first, last, seconds);
    if (ec != std::errc() || end != last || request.timestamp.size() > 12)
        return SignatureVerdict::MalformedTimestamp;
    int64_t nowSeconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    int64_t skew = nowSeconds > seconds ? nowSeconds - seconds : seconds - nowSeconds;
    if (skew > window_.count()) return SignatureVerdict::StaleTimestamp;

    std::string expected = sign(request.timestamp, request.body);
    // The length is public (always 67); the bytes are compared without an early exit, so the
    // time taken says nothing about how much of a forged signature was right.
    if (request.signature.size() != expected.size()) return SignatureVerdict::BadSignature;
    if (CRYPTO_memcmp(request.signature.data(), expected.data(), expected.size()) != 0)
        return SignatureVerdict::BadSignature;
    return SignatureVerdict::Valid;
}

}  // namespace mxbridge::slack
