// Seals login secrets for storage: AES-256-GCM with a fresh random 12-byte nonce per value,
// under a key hashed (SHA-256) from database.secret_key. The row's identity goes in as
// associated data, so a sealed secret copied onto another user's row does not open.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "mxbridge/log.h"
#include "mxbridge/result.h"

namespace mxbridge::detail {

class SecretBox {
public:
    // An empty `configuredKey` means no key: seal() throws, open() fails.
    explicit SecretBox(const Secret<std::string>& configuredKey);
    ~SecretBox();
    SecretBox(const SecretBox&) = default;
    SecretBox& operator=(const SecretBox&) = default;

    bool hasKey() const { return hasKey_; }
    // version byte 0x01 | nonce (12) | ciphertext | tag (16). Throws std::runtime_error naming
    // database.secret_key when there is no key, or when OpenSSL fails.
    std::string seal(std::string_view plaintext, std::string_view associatedData) const;
    // Fails (code "secret_key_missing", "secret_key_mismatch" or "secret_corrupt") with a
    // message saying what to do; the secret itself is never in it.
    Result<std::string> open(std::string_view sealed, std::string_view associatedData) const;

private:
    unsigned char key_[32] = {};
    bool hasKey_ = false;
};

}  // namespace mxbridge::detail
