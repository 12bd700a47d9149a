#include "mxbridge/xmpp/jid.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "mxbridge/format/utf8.h"
#include "mxbridge/xmpp/serializer.h"

namespace mxbridge::xmpp {

namespace {

// The characters XEP-0106 escapes, with their codes (lowercase hex, as the XEP writes them).
constexpr std::array<std::pair<char, std::string_view>, 10> kEscapes = {{
    {' ', "20"}, {'"', "22"}, {'&', "26"}, {'\'', "27"}, {'/', "2f"},
    {':', "3a"}, {'<', "3c"}, {'>', "3e"}, {'@', "40"}, {'\\', "5c"},
}};

std::optional<char> unescapedChar(std::string_view code) {
    for (const auto& [c, hex] : kEscapes)
        if (hex == code) return c;
    return std::nullopt;
}

bool setWhy(std::string* why, std::string text) {
    if (why != nullptr) *why = std::move(text);
    return false;
}

// No C0 controls, no DEL, strict UTF-8, within the length limit and not empty.
bool checkCommon(std::string_view part, const char* name, std::string* why) {
    if (part.empty()) return setWhy(why, std::string("empty ") + name);
    if (part.size() > Jid::kMaxPartBytes)
        return setWhy(why, std::string(name) + " longer than 1023 bytes");
    if (!format::isValidUtf8(part)) return setWhy(why, std::string(name) + " is not UTF-8");
    for (unsigned char c : part)
        if (c < 0x20 || c == 0x7F) return setWhy(why, std::string(name) + " holds a control character");
    // U+FFFE and U+FFFF: UTF-8, but no XML stream may carry them.
    if (toXmlChars(part) != part) return setWhy(why, std::string(name) + " holds a character XML forbids");
    return true;
}

bool checkLocal(std::string_view local, std::string* why) {
    if (!checkCommon(local, "localpart", why)) return false;
    if (local.find_first_of(" \"&'/:<>@\t") != std::string_view::npos)
        return setWhy(why, "localpart holds a character JIDs forbid there (space \" & ' / : < > @)");
    return true;
}

bool checkDomain(std::string_view domain, std::string* why) {
    if (!checkCommon(domain, "domainpart", why)) return false;
    if (domain.front() == '[') {  // an IPv6 literal
        bool ok = domain.back() == ']' && domain.size() > 2 &&
                  std::all_of(domain.begin() + 1, domain.end() - 1, [](char c) {
                      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
                  });
        return ok || setWhy(why, "domainpart is not a valid IPv6 literal");
    }
    for (unsigned char c : domain) {
        bool ok = c >= 0x80 || std::isalnum(c) || c == '-' || c == '.' || c == '_';
        if (!ok) return setWhy(why, "domainpart holds a character a domain name cannot");
    }
    if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
        return setWhy(why, "domainpart has an empty label");
    return true;
}

std::string asciiLower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::optional<Jid> Jid::fromParts(std::string_view local, std::string_view domain,
                                  std::string_view resource, std::string* why) {
    // A fully qualified domain's trailing dot is not part of the JID (RFC 7622 §3.2).
    if (domain.size() > 1 && domain.back() == '.') domain.remove_suffix(1);
    if (!local.empty() && !checkLocal(local, why)) return std::nullopt;
    if (!checkDomain(domain, why)) return std::nullopt;
    if (!resource.empty() && !checkCommon(resource, "resourcepart", why)) return std::nullopt;
    Jid jid;
    jid.local_ = asciiLower(local);
    jid.domain_ = asciiLower(domain);
    jid.resource_ = std::string(resource);
    return jid;
}

std::optional<Jid> Jid::parse(std::string_view text, std::string* why) {
    std::string_view rest = text;
    std::string_view resource;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        resource = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (resource.empty()) {
            setWhy(why, "'/' without a resourcepart");
            return std::nullopt;
        }
    }
    std::string_view local;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        local = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (local.empty()) {
            setWhy(why, "'@' without a localpart");
            return std::nullopt;
        }
    }
    return fromParts(local, rest, resource, why);
}

Jid Jid::bare() const {
    Jid out = *this;
    out.resource_.clear();
    return out;
}

std::optional<Jid> Jid::withResource(std::string_view resource) const {
    return fromParts(local_, domain_, resource);
}

std::string Jid::str() const {
    std::string out;
    if (!local_.empty()) out += local_ + "@";
    out += domain_;
    if (!resource_.empty()) out += "/" + resource_;
    return out;
}

std::optional<std::string> escapeLocalpart(std::string_view raw) {
    if (raw.empty() || raw.front() == ' ' || raw.back() == ' ') return std::nullopt;
    std::string out;
    out.reserve(raw.size() + raw.size() / 4);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        bool escapeIt = c != '\\';
        if (c == '\\') {
            // Only a backslash that would read as the start of an escape needs escaping.
            escapeIt = unescapedChar(raw.substr(i + 1, 2)).has_value();
        }
        auto found = std::find_if(kEscapes.begin(), kEscapes.end(), [&](const auto& e) { return e.first == c; });
        if (escapeIt && found != kEscapes.end()) {
            out += '\\';
            out += found->second;
        } else {
            out += c;
        }
    }
    if (!checkLocal(out, nullptr)) return std::nullopt;
    return out;
}

std::string unescapeLocalpart(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '\\') {
            if (auto c = unescapedChar(escaped.substr(i + 1, 2))) {
                out += *c;
                i += 2;
                continue;
            }
        }
        out += escaped[i];
    }
    return out;
}

}  // namespace mxbridge::xmpp
