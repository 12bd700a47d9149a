#include "mxbridge/ids.h"

#include <algorithm>
#include <cstdint>

namespace mxbridge {

namespace {

// Appendices, "User Identifiers", "Room IDs", "Room Aliases", "Event IDs": the whole id,
// sigil and server name included, MUST NOT exceed 255 bytes.
constexpr size_t kMaxIdBytes = 255;
// Room version 12: the room id is the create event's sha256, URL-safe unpadded base64.
constexpr size_t kHashIdChars = 43;

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// U+0021-U+007E: what the spec calls compliant in ids (no space, no control character).
bool isPrintableAscii(char c) { return c >= 0x21 && c <= 0x7e; }

bool allOf(std::string_view s, bool (*pred)(char)) {
    for (char c : s)
        if (!pred(c)) return false;
    return true;
}

// 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each part 0-255.
bool isIpv4(std::string_view s) {
    int parts = 0;
    while (true) {
        size_t dot = s.find('.');
        std::string_view part = s.substr(0, dot);
        if (part.empty() || part.size() > 3 || !allOf(part, isDigit)) return false;
        int value = 0;
        for (char c : part) value = value * 10 + (c - '0');
        if (value > 255) return false;
        ++parts;
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    return parts == 4;
}

// The text between the brackets: 2*45 of hex digits, ":" and ".", with at least one ":".
bool isIpv6Literal(std::string_view s) {
    if (s.size() < 2 || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
    for (char c : s)
        if (!isHexDigit(c) && c != ':' && c != '.') return false;
    return true;
}

bool isDnsName(std::string_view s) {
    if (s.empty() || s.size() > 255) return false;
    for (char c : s)
        if (!isAlpha(c) && !isDigit(c) && c != '-' && c != '.') return false;
    return true;
}

// One UTF-8 sequence at the start of `s` that encodes a character which is neither a control
// character (C0, DEL, C1) nor a surrogate; its length, or 0.
size_t printableUtf8Length(std::string_view s) {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char lead = byte(0);
    if (lead < 0x80) return isPrintableAscii(static_cast<char>(lead)) ? 1 : 0;
    size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
    if (length == 0 || lead > 0xf4 || s.size() < length) return 0;
    uint32_t cp = lead & (0x7f >> length);
    for (size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i) & 0x3f);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kSmallest[length] || cp > 0x10ffff) return 0;  // overlong or beyond Unicode
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;             // surrogate
    if (cp <= 0x9f) return 0;                               // C1 control
    return length;
}

bool isPrintableUtf8(std::string_view s) {
    while (!s.empty()) {
        size_t n = printableUtf8Length(s);
        if (n == 0) return false;
        s.remove_prefix(n);
    }
    return true;
}

// "<sigil>localpart:server" within the length limit, the localpart checked by `localpartOk`.
bool isNamespacedId(std::string_view id, char sigil, bool (*localpartOk)(std::string_view)) {
    if (id.size() > kMaxIdBytes || id.size() < 4 || id[0] != sigil) return false;
    size_t colon = id.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view localpart = id.substr(1, colon - 1);
    return !localpart.empty() && localpartOk(localpart) && isValidServerName(id.substr(colon + 1));
}

bool isAsciiLocalpart(std::string_view s) { return allOf(s, isPrintableAscii); }
bool isAliasLocalpart(std::string_view s) { return isPrintableUtf8(s); }
bool isUrlSafeBase64Char(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_'; }

}  // namespace

bool isValidServerName(std::string_view name) {
    std::string_view host = name;
    if (!name.empty() && name[0] == '[') {
        size_t close = name.find(']');
        if (close == std::string_view::npos || !isIpv6Literal(name.substr(1, close - 1))) return false;
        host = name.substr(0, close + 1);
    } else {
        host = name.substr(0, name.find(':'));
    }
    if (host.size() < name.size()) {
        std::string_view rest = name.substr(host.size());
        std::string_view port = rest.substr(1);
        if (rest[0] != ':' || port.empty() || port.size() > 5 || !allOf(port, isDigit)) return false;
    }
    if (host.empty()) return false;  // "@a:" or ":8448": there is no host to read
    if (host[0] == '[') return true;
    // Four numeric parts are an IPv4 literal and must be in range, not a DNS name.
    if (allOf(host, [](char c) { return isDigit(c) || c == '.'; }) &&
        std::count(host.begin(), host.end(), '.') == 3)
        return isIpv4(host);
    return isDnsName(host);
}

bool isValidUserId(std::string_view id) { return isNamespacedId(id, '@', isAsciiLocalpart); }

bool isValidRoomId(std::string_view id) {
    if (id.size() == 1 + kHashIdChars && id[0] == '!' && allOf(id.substr(1), isUrlSafeBase64Char)) return true;
    return isNamespacedId(id, '!', isAsciiLocalpart);
}

bool isValidRoomAlias(std::string_view id) { return isNamespacedId(id, '#', isAliasLocalpart); }

bool isValidEventId(std::string_view id) {
    return id.size() >= 2 && id.size() <= kMaxIdBytes && id[0] == '$' && allOf(id.substr(1), isPrintableAscii);
}

bool isValidMxcUri(std::string_view uri) {
    constexpr std::string_view kScheme = "mxc://";
    if (uri.size() > kMaxIdBytes || uri.substr(0, kScheme.size()) != kScheme) return false;
    std::string_view rest = uri.substr(kScheme.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || !isValidServerName(rest.substr(0, slash))) return false;
    std::string_view media = rest.substr(slash + 1);
    return !media.empty() && allOf(media, isUrlSafeBase64Char);
}

std::string_view localpartOf(std::string_view id) {
    if (id.size() < 2 || (id[0] != '@' && id[0] != '#')) return {};
    size_t colon = id.find(':');
    return id.substr(1, colon == std::string_view::npos ? std::string_view::npos : colon - 1);
}

std::string_view serverOf(std::string_view id) {
    size_t colon = id.find(':');
    return colon == std::string_view::npos ? std::string_view() : id.substr(colon + 1);
}

}  // namespace mxbridge
