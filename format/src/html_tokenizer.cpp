// Tags, attributes and entities, forgiving of whatever a client or a hostile peer sends.
#include "html_tokenizer.h"

#include <array>
#include <cstdint>

#include "mxbridge/format/utf8.h"

namespace mxbridge::format::detail {

namespace {

bool isAsciiAlnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

struct NamedEntity {
    std::string_view name;
    std::string_view utf8;
};

// The entities Matrix clients and mail-like HTML actually use; the rest of HTML's 2,000-odd
// stay literal, which reads well enough for a name nobody sends.
constexpr std::array<NamedEntity, 26> kNamedEntities = {{
    {"amp", "&"},
    {"lt", "<"},
    {"gt", ">"},
    {"quot", "\""},
    {"apos", "'"},
    {"nbsp", "\xC2\xA0"},
    {"copy", "\xC2\xA9"},
    {"reg", "\xC2\xAE"},
    {"trade", "\xE2\x84\xA2"},
    {"hellip", "\xE2\x80\xA6"},
    {"mdash", "\xE2\x80\x94"},
    {"ndash", "\xE2\x80\x93"},
    {"lsquo", "\xE2\x80\x98"},
    {"rsquo", "\xE2\x80\x99"},
    {"ldquo", "\xE2\x80\x9C"},
    {"rdquo", "\xE2\x80\x9D"},
    {"laquo", "\xC2\xAB"},
    {"raquo", "\xC2\xBB"},
    {"bull", "\xE2\x80\xA2"},
    {"middot", "\xC2\xB7"},
    {"deg", "\xC2\xB0"},
    {"times", "\xC3\x97"},
    {"divide", "\xC3\xB7"},
    {"euro", "\xE2\x82\xAC"},
    {"pound", "\xC2\xA3"},
    {"sect", "\xC2\xA7"},
}};

// Longest entity we read, '&' and ';' included ("&#x10FFFF;" and "&hellip;" fit).
constexpr std::size_t kMaxEntityBytes = 14;

std::size_t decodeNumeric(std::string_view name, std::size_t used, std::string& out) {
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    std::uint32_t cp = 0;
    for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return 0;
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
        if (cp > 0x10FFFF) cp = 0x110000;  // saturate: appendUtf8 turns it into U+FFFD
    }
    if (cp == '\n' || cp == '\t')
        out += static_cast<char>(cp);
    else if (cp == 0)
        appendUtf8(out, 0xFFFD);
    else if (cp >= 0x20 && cp != 0x7F)
        appendUtf8(out, cp);
    // Other controls (CR, the mIRC and ANSI codes) are dropped: an entity must not add
    // formatting or line breaks the sender never saw.
    return used;
}

}  // namespace

bool isHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::size_t decodeEntity(std::string_view text, std::size_t pos, std::string& out) {
    // Looking for ';' only a few bytes ahead keeps "&&&&..." linear.
    std::size_t semi = text.substr(pos, kMaxEntityBytes).find(';');
    if (semi == std::string_view::npos) return 0;
    std::string_view name = text.substr(pos + 1, semi - 1);
    std::size_t used = semi + 1;
    for (const auto& entity : kNamedEntities) {
        if (entity.name == name) {
            out += entity.utf8;
            return used;
        }
    }
    if (name.size() < 2 || name[0] != '#') return 0;
    return decodeNumeric(name, used, out);
}

std::string decodeEntities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '&') {
            std::size_t n = decodeEntity(text, i, out);
            if (n > 0) {
                i += n;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

const std::string* Tag::attribute(std::string_view key) const {
    for (const auto& [k, v] : attributes)
        if (k == key) return &v;
    return nullptr;
}

std::string Tag::attributeOr(std::string_view key, std::string_view fallback) const {
    const std::string* value = attribute(key);
    return value ? *value : std::string(fallback);
}

std::size_t parseTag(std::string_view whole, std::size_t pos, Tag& tag) {
    std::string_view html = whole.substr(0, pos + std::min(whole.size() - pos, kMaxTagBytes));
    std::size_t i = pos + 1;
    if (i < html.size() && html[i] == '/') {
        tag.closing = true;
        ++i;
    }
    std::size_t nameStart = i;
    while (i < html.size() && (isAsciiAlnum(html[i]) || html[i] == '-'))
        tag.name += asciiLower(html[i++]);
    bool startsWithLetter =
        i > nameStart && asciiLower(html[nameStart]) >= 'a' && asciiLower(html[nameStart]) <= 'z';
    if (!startsWithLetter) return 0;
    while (i < html.size()) {
        while (i < html.size() && isHtmlSpace(html[i])) ++i;
        if (i >= html.size()) return 0;
        if (html[i] == '>') return i + 1 - pos;
        // A raw '<' where a name or an unquoted value would be: this was no tag, and giving
        // up here keeps a run of "<a b=<a b=..." linear.
        if (html[i] == '<') return 0;
        if (html[i] == '/') {
            tag.selfClosing = true;
            ++i;
            continue;
        }
        std::string key;
        while (i < html.size() && !isHtmlSpace(html[i]) && html[i] != '=' && html[i] != '>' &&
               html[i] != '/' && html[i] != '<')
            key += asciiLower(html[i++]);
        if (key.empty()) {  // a stray '=' or similar
            ++i;
            continue;
        }
        tag.selfClosing = false;
        std::string value;
        while (i < html.size() && isHtmlSpace(html[i])) ++i;  // "href = x" is allowed too
        if (i < html.size() && html[i] == '=') {
            ++i;
            while (i < html.size() && isHtmlSpace(html[i])) ++i;
            if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
                char quote = html[i++];
                std::size_t end = html.find(quote, i);
                if (end == std::string_view::npos) return 0;
                value = decodeEntities(html.substr(i, end - i));
                i = end + 1;
            } else {
                std::size_t start = i;
                while (i < html.size() && !isHtmlSpace(html[i]) && html[i] != '>') {
                    if (html[i] == '<') return 0;
                    ++i;
                }
                value = decodeEntities(html.substr(start, i - start));
            }
        }
        tag.attributes.emplace_back(std::move(key), std::move(value));
    }
    return 0;
}

std::size_t skipNonElement(std::string_view html, std::size_t pos) {
    std::string_view rest = html.substr(pos);
    if (startsWith(rest, "<!--")) {
        std::size_t end = rest.find("-->", 4);
        return end == std::string_view::npos ? rest.size() : end + 3;
    }
    if (startsWith(rest, "<!") || startsWith(rest, "<?")) {
        std::size_t end = rest.find('>');
        return end == std::string_view::npos ? rest.size() : end + 1;
    }
    return 0;
}

}  // namespace mxbridge::format::detail
