#include "mxbridge/xmpp/component_handshake.h"

#include <openssl/sha.h>

namespace mxbridge::xmpp {

std::string componentHandshake(std::string_view streamId, std::string_view secret) {
    std::string input;
    input.reserve(streamId.size() + secret.size());
    input.append(streamId).append(secret);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * SHA_DIGEST_LENGTH);
    for (unsigned char byte : digest) {
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
    }
    return out;
}

}  // namespace mxbridge::xmpp
