#include "mxbridge/xmpp/serializer.h"

#include <stdexcept>

#include "mxbridge/format/utf8.h"
#include "mxbridge/xmpp/namespaces.h"

namespace mxbridge::xmpp {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Whether the valid UTF-8 sequence at `s[pos]` of length `len` is a character XML 1.0
// allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. Strict
// UTF-8 already excludes surrogates and values past U+10FFFF.
bool isXmlChar(std::string_view s, std::size_t pos, std::size_t len) {
    auto b0 = static_cast<unsigned char>(s[pos]);
    if (len == 1) return b0 >= 0x20 || b0 == '\t' || b0 == '\n' || b0 == '\r';
    if (len == 3 && b0 == 0xEF && static_cast<unsigned char>(s[pos + 1]) == 0xBF) {
        auto b2 = static_cast<unsigned char>(s[pos + 2]);
        return b2 != 0xBE && b2 != 0xBF;  // U+FFFE, U+FFFF
    }
    return true;
}

// Calls `emit(piece)` with the input cut into XML characters, each invalid one replaced.
template <typename Emit>
void forEachXmlChar(std::string_view s, Emit&& emit) {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = format::validUtf8SequenceLength(s, i);
        if (len == 0) {
            emit(kReplacement);
            ++i;
        } else {
            emit(isXmlChar(s, i, len) ? s.substr(i, len) : kReplacement);
            i += len;
        }
    }
}

void requireName(std::string_view name, const char* what) {
    if (!isValidXmlName(name))
        throw std::invalid_argument(std::string("not an XML name for ") + what + ": \"" +
                                    toXmlChars(name) + "\"");
}

void writeElement(std::string& out, const Element& e, std::string_view enclosingNs) {
    requireName(e.name(), "an element");
    out += '<';
    out += e.name();
    if (e.xmlns() != enclosingNs) {
        out += " xmlns='";
        out += escapeAttribute(e.xmlns());
        out += '\'';
    }
    int prefixes = 0;
    for (const auto& a : e.attributes()) {
        requireName(a.name, "an attribute");
        out += ' ';
        if (a.ns == ns::kXml) {
            out += "xml:";
        } else if (!a.ns.empty()) {
            // A prefix of our own for each namespaced attribute; only ever read by its URI.
            std::string prefix = "a" + std::to_string(++prefixes);
            out += "xmlns:" + prefix + "='" + escapeAttribute(a.ns) + "' " + prefix + ":";
        }
        out += a.name;
        out += "='";
        out += escapeAttribute(a.value);
        out += '\'';
    }
    if (e.nodes().empty()) {
        out += "/>";
        return;
    }
    out += '>';
    for (const auto& n : e.nodes()) {
        if (n.isText()) {
            out += escapeText(n.text());
        } else {
            writeElement(out, n.element(), e.xmlns());
        }
    }
    out += "</";
    out += e.name();
    out += '>';
}

bool isNameStartByte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool isNameByte(unsigned char c) {
    return isNameStartByte(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

}  // namespace

std::string toXmlChars(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    forEachXmlChar(text, [&](std::string_view piece) { out += piece; });
    return out;
}

std::string escapeText(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    forEachXmlChar(text, [&](std::string_view piece) {
        switch (piece[0]) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\r': out += "&#13;"; break;
            default: out += piece;
        }
    });
    return out;
}

std::string escapeAttribute(std::string_view value) {
    std::string out;
    out.reserve(value.size() + value.size() / 8);
    forEachXmlChar(value, [&](std::string_view piece) {
        switch (piece[0]) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\'': out += "&apos;"; break;
            case '"': out += "&quot;"; break;
            case '\t': out += "&#9;"; break;
            case '\n': out += "&#10;"; break;
            case '\r': out += "&#13;"; break;
            default: out += piece;
        }
    });
    return out;
}

bool isValidXmlName(std::string_view name) {
    if (name.empty() || !isNameStartByte(static_cast<unsigned char>(name[0]))) return false;
    for (unsigned char c : name)
        if (!isNameByte(c)) return false;
    // Non-ASCII bytes must form characters; a replacement would change the name.
    return toXmlChars(name) == name;
}

std::string serialize(const Element& element, std::string_view enclosingNs) {
    std::string out;
    writeElement(out, element, enclosingNs);
    return out;
}

std::string openStreamTag(std::string_view contentNs, const std::vector<Attribute>& attributes) {
    std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
    out += escapeAttribute(contentNs);
    out += "' xmlns:stream='";
    out += ns::kStreams;
    out += '\'';
    for (const auto& a : attributes) {
        requireName(a.name, "a stream attribute");
        if (!a.ns.empty() && a.ns != ns::kXml)
            throw std::invalid_argument("a stream header attribute in a namespace other than xml:");
        out += ' ';
        if (a.ns == ns::kXml) out += "xml:";
        out += a.name + "='" + escapeAttribute(a.value) + "'";
    }
    out += '>';
    return out;
}

}  // namespace mxbridge::xmpp
