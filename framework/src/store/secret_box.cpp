#include "store/secret_box.h"

#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace mxbridge::detail {

namespace {

constexpr unsigned char kVersion = 0x01;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CipherFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

SecretBox::SecretBox(const Secret<std::string>& configuredKey) {
    if (configuredKey.empty()) return;
    SHA256(bytes(configuredKey.reveal()), configuredKey.reveal().size(), key_);
    hasKey_ = true;
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_, sizeof key_); }

std::string SecretBox::seal(std::string_view plaintext, std::string_view associatedData) const {
    if (!hasKey_) {
        throw std::runtime_error(
            "cannot store a login secret: no encryption key is configured. Set database.secret_key "
            "(32+ characters, e.g. `openssl rand -hex 32`), or MXBRIDGE_DATABASE_SECRET_KEY_FILE");
    }
    std::string out(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    o[0] = kVersion;
    unsigned char* nonce = o + 1;
    unsigned char* cipher = nonce + kNonceBytes;
    unsigned char* tag = cipher + plaintext.size();
    if (RAND_bytes(nonce, kNonceBytes) != 1) throw std::runtime_error("cannot seal a login secret: no randomness");
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
              EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_, nonce) == 1 &&
              EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associatedData),
                                static_cast<int>(associatedData.size())) == 1 &&
              EVP_EncryptUpdate(ctx.get(), cipher, &len, bytes(plaintext),
                                static_cast<int>(plaintext.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
    if (!ok) throw std::runtime_error("cannot seal a login secret: OpenSSL AES-256-GCM failed");
    return out;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view associatedData) const {
    if (!hasKey_) {
        return Error::permanent("secret_key_missing",
                                "a stored login secret cannot be read: database.secret_key is not set "
                                "(set the key it was stored with)");
    }
    if (sealed.size() < 1 + kNonceBytes + kTagBytes || static_cast<unsigned char>(sealed[0]) != kVersion) {
        return Error::permanent("secret_corrupt",
                                "a stored login secret is not in a format this mxbridge knows; the "
                                "user has to log in again");
    }
    const unsigned char* nonce = bytes(sealed) + 1;
    const unsigned char* cipher = nonce + kNonceBytes;
    size_t cipherLen = sealed.size() - 1 - kNonceBytes - kTagBytes;
    // EVP wants a non-const tag pointer; copy it.
    unsigned char tag[kTagBytes];
    std::copy(cipher + cipherLen, cipher + cipherLen + kTagBytes, tag);
    std::string out(cipherLen, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
              EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_, nonce) == 1 &&
              EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associatedData),
                                static_cast<int>(associatedData.size())) == 1 &&
              EVP_DecryptUpdate(ctx.get(), o, &len, cipher, static_cast<int>(cipherLen)) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) == 1 &&
              EVP_DecryptFinal_ex(ctx.get(), o + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(out.data(), out.size());
        return Error::permanent("secret_key_mismatch",
                                "a stored login secret does not decrypt: database.secret_key differs "
                                "from the key it was stored with (restore that key, or the user logs "
                                "in again)");
    }
    return out;
}

}  // namespace mxbridge::detail
