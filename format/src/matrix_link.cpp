// matrix.to and matrix: links (spec appendices, "Matrix URIs" and "matrix.to navigation").
#include "mxbridge/format/matrix_link.h"

#include <utility>

#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/percent_encoding.h"

namespace mxbridge::format {

namespace {

constexpr std::string_view kMatrixTo = "https://matrix.to/#/";

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percentDecode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
            out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// What RFC 3986 lets stand in a fragment path segment, less the characters that are
// separators here ('/', '?', '&', '=', '#').
bool keepsUnencoded(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '@' || c == '!' ||
           c == '$' || c == '\'' || c == '(' || c == ')' || c == '*' || c == ',' || c == ';';
}


// A sigil, then a localpart and a server name split by ':' (room ids of room version 12
// have no server name, so for '!' the ':' is optional). Nothing that could hide a
// separator or a line break.
bool isCleanIdentifier(std::string_view id, char sigil) {
    if (id.size() < 2 || id[0] != sigil || id.size() > 255) return false;
    for (char c : id)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '?') return false;
    return true;
}

bool looksLikeId(std::string_view id, char sigil) {
    if (!isCleanIdentifier(id, sigil) || id.find('/') != std::string_view::npos) return false;
    std::size_t colon = id.find(':');
    if (sigil == '!' && colon == std::string_view::npos) return true;
    return colon != std::string_view::npos && colon > 1 && colon + 1 < id.size();
}

std::optional<MatrixLinkKind> kindOfSigil(char sigil) {
    switch (sigil) {
        case '@':
            return MatrixLinkKind::User;
        case '#':
            return MatrixLinkKind::RoomAlias;
        case '!':
            return MatrixLinkKind::RoomId;
        default:
            return std::nullopt;
    }
}

std::vector<std::string> viaOf(std::string_view query) {
    std::vector<std::string> via;
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view item = query.substr(0, amp);
        if (item.substr(0, 4) == "via=" && item.size() > 4) via.push_back(percentDecode(item.substr(4)));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return via;
}

// "path?query" split at the first '?'.
std::pair<std::string_view, std::string_view> splitQuery(std::string_view rest) {
    std::size_t q = rest.find('?');
    if (q == std::string_view::npos) return {rest, {}};
    return {rest.substr(0, q), rest.substr(q + 1)};
}

std::optional<MatrixLink> fromMatrixTo(std::string_view rest) {
    auto [path, query] = splitQuery(rest);
    std::size_t slash = path.find('/');
    MatrixLink link;
    link.id = percentDecode(path.substr(0, slash));
    if (link.id.empty()) return std::nullopt;
    auto kind = kindOfSigil(link.id[0]);
    if (!kind || !looksLikeId(link.id, link.id[0])) return std::nullopt;
    link.kind = *kind;
    if (slash != std::string_view::npos) {
        // Event ids of room versions 1-3 may hold '/', decoded or not: all of the rest.
        link.eventId = percentDecode(path.substr(slash + 1));
        if (link.kind == MatrixLinkKind::User || !isCleanIdentifier(link.eventId, '$'))
            return std::nullopt;
        link.kind = MatrixLinkKind::Event;
    }
    link.via = viaOf(query);
    return link;
}

std::optional<MatrixLink> fromMatrixUri(std::string_view rest) {
    auto [path, query] = splitQuery(rest);
    std::size_t slash = path.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view type = path.substr(0, slash);
    path.remove_prefix(slash + 1);
    std::size_t eventSlash = path.find('/');
    char sigil;
    if (type == "u" || type == "user")
        sigil = '@';
    else if (type == "r" || type == "room")
        sigil = '#';
    else if (type == "roomid")
        sigil = '!';
    else
        return std::nullopt;
    MatrixLink link;
    link.kind = *kindOfSigil(sigil);
    link.id = sigil + percentDecode(path.substr(0, eventSlash));
    if (!looksLikeId(link.id, sigil)) return std::nullopt;
    if (eventSlash != std::string_view::npos) {
        std::string_view event = path.substr(eventSlash + 1);
        if (sigil == '@' || !(event.substr(0, 2) == "e/" || event.substr(0, 6) == "event/"))
            return std::nullopt;
        event.remove_prefix(event.find('/') + 1);
        link.kind = MatrixLinkKind::Event;
        link.eventId = "$" + percentDecode(event);
        if (!isCleanIdentifier(link.eventId, '$')) return std::nullopt;
    }
    link.via = viaOf(query);
    return link;
}

}  // namespace

std::optional<MatrixLink> parseMatrixLink(std::string_view href) {
    if (startsWithNoCase(href, kMatrixTo)) return fromMatrixTo(href.substr(kMatrixTo.size()));
    if (startsWithNoCase(href, "matrix:")) return fromMatrixUri(href.substr(7));
    return std::nullopt;
}

std::string matrixToUrl(const MatrixLink& link) {
    std::string url(kMatrixTo);
    url += percentEncode(link.id, keepsUnencoded);
    if (link.kind == MatrixLinkKind::Event) url += "/" + percentEncode(link.eventId, keepsUnencoded);
    for (std::size_t i = 0; i < link.via.size(); ++i)
        url += (i == 0 ? "?via=" : "&via=") + percentEncode(link.via[i], keepsUnencoded);
    return url;
}

std::string userPillHtml(std::string_view userId, std::string_view displayName) {
    HtmlWriter writer;
    writer.pill(userId, displayName);
    return writer.finish();
}

}  // namespace mxbridge::format
