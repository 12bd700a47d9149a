// Ghost localparts: the spec's suggested mapping from other character sets, plus a hashed
// shortening for ids that would not fit in 255 bytes.
#include "bridge/ghost_names.h"
#include "mxbridge/ghost_ids.h"

#include <openssl/evp.h>

namespace mxbridge::detail {
namespace {

constexpr const char* kHex = "0123456789abcdef";

bool passesThrough(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '/';
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper-case hex is never produced, so it is not accepted either
}

std::string sha256Hex(std::string_view data, size_t digits) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    std::string out;
    for (unsigned int i = 0; i < length && out.size() < digits; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out.substr(0, digits);
}

}  // namespace

std::string escapeGhostId(std::string_view ghostId) {
    // A localpart must not be empty, and "=" alone is no escape, so it decodes back to "".
    if (ghostId.empty()) return "=";
    std::string out;
    out.reserve(ghostId.size());
    for (char ch : ghostId) {
        auto c = static_cast<unsigned char>(ch);
        if (passesThrough(c)) {
            out += static_cast<char>(c);
        } else if (c >= 'A' && c <= 'Z') {
            out += '_';
            out += static_cast<char>(c - 'A' + 'a');
        } else if (c == '_') {
            out += "__";
        } else {
            out += '=';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::optional<std::string> unescapeGhostId(std::string_view localpart) {
    if (localpart == "=") return std::string();
    if (localpart.empty()) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < localpart.size(); ++i) {
        auto c = static_cast<unsigned char>(localpart[i]);
        if (passesThrough(c)) {
            out += static_cast<char>(c);
        } else if (c == '_') {
            if (i + 1 >= localpart.size()) return std::nullopt;
            char next = localpart[++i];
            if (next == '_') out += '_';
            else if (next >= 'a' && next <= 'z') out += static_cast<char>(next - 'a' + 'A');
            else return std::nullopt;
        } else if (c == '=') {
            if (i + 2 >= localpart.size()) return std::nullopt;
            int hi = hexValue(localpart[i + 1]), lo = hexValue(localpart[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            auto byte = static_cast<unsigned char>(hi * 16 + lo);
            // Bytes with a shorter spelling are never written as "=xx": refusing them keeps
            // the mapping one-to-one, so a user id decodes to exactly one ghost id.
            if (passesThrough(byte) || (byte >= 'A' && byte <= 'Z') || byte == '_')
                return std::nullopt;
            out += static_cast<char>(byte);
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

UserId ghostUserIdFor(std::string_view prefix, std::string_view suffix, std::string_view server,
                      std::string_view ghostId) {
    std::string escaped = escapeGhostId(ghostId);
    const size_t fixed = 1 + prefix.size() + suffix.size() + 1 + server.size();
    auto build = [&](std::string_view middle) {
        std::string id;
        id.reserve(fixed + middle.size());
        id += '@';
        id += prefix;
        id += middle;
        id += suffix;
        id += ':';
        id += server;
        return UserId(std::move(id));
    };
    if (fixed + escaped.size() <= kMaxUserIdLength) return build(escaped);

    constexpr size_t kHashDigits = 24;  // 96 bits: collisions by accident or on purpose are out of reach
    const std::string tail = "==" + sha256Hex(ghostId, kHashDigits);
    size_t budget = kMaxUserIdLength > fixed + tail.size() ? kMaxUserIdLength - fixed - tail.size() : 0;
    // Cut at an escape boundary so what is kept still reads as the start of the name.
    size_t cut = 0;
    for (size_t i = 0; i < escaped.size();) {
        size_t step = escaped[i] == '=' ? 3 : escaped[i] == '_' ? 2 : 1;
        if (i + step > budget) break;
        i += step;
        cut = i;
    }
    return build(escaped.substr(0, cut) + tail);
}

}  // namespace mxbridge::detail

namespace mxbridge {

std::optional<std::string> ghostIdFromEscaped(std::string_view escaped) { return detail::unescapeGhostId(escaped); }

}  // namespace mxbridge
