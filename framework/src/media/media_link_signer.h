// Makes and checks the tokens of /_mxbridge/media/<token> links (mxbridge/media.h).
// A token is "<expiry>.<mxc, base64url>.<HMAC-SHA256, base64url>": the expiry in Unix
// seconds (0: never), and the MAC over both under media.signing_key, so a link names exactly
// one file until one time, and nobody without the key can make one for another file or time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "mxbridge/log.h"
#include "mxbridge/media.h"
#include "mxbridge/result.h"

namespace mxbridge::detail {

struct MediaLinkOptions {
    // Where remote users reach the bridge's listener, e.g. "https://bridge.example.org"
    // (media.public_url, default appservice.public_url).
    std::string publicUrl;
    // media.signing_key; empty: no links are made and every token is refused.
    Secret<std::string> signingKey;
    // How long a link works (media.link_lifetime_days); 0: for as long as the key is kept.
    std::chrono::seconds lifetime{0};
};

class MediaLinkSigner final : public MediaLinks {
public:
    using UnixClock = std::function<int64_t()>;  // seconds since the epoch
    explicit MediaLinkSigner(MediaLinkOptions options, UnixClock now = {});

    bool enabled() const { return !options_.signingKey.empty(); }
    std::optional<std::string> publicUrl(std::string_view mxc, std::string_view fileName = {}) const override;
    // The token alone, for the path after /_mxbridge/media/.
    std::optional<std::string> token(std::string_view mxc) const;
    // The mxc URI `token` was made for; refused ("forged", "expired", "malformed") otherwise.
    // Compares the MAC in constant time.
    Result<std::string> verify(std::string_view token) const;

private:
    std::string mac(std::string_view signedPart) const;

    MediaLinkOptions options_;
    UnixClock now_;
};

// A signing key for when the operator set none: HMAC-SHA256 of a fixed label under `secret`
// (the as_token), so it is as secret as the token and changes with it.
Secret<std::string> deriveMediaLinkKey(const Secret<std::string>& secret);
// Whether `url`'s host is this machine only (localhost, 127.0.0.0/8, ::1, 0.0.0.0) or missing.
bool isLoopbackUrl(std::string_view url);

// Unpadded URL-safe base64 (RFC 4648 §5), and back; nullopt on any other character.
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace mxbridge::detail
