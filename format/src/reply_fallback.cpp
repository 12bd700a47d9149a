// Reply fallbacks (spec: "Rich replies", v1.13 note on stripping them).
#include "mxbridge/format/reply_fallback.h"

#include "html_tokenizer.h"

namespace mxbridge::format {

std::string stripHtmlReplyFallback(std::string_view html) {
    std::size_t pos = 0;
    while (pos < html.size() && detail::isHtmlSpace(html[pos])) ++pos;
    detail::Tag first;
    std::size_t n = pos < html.size() && html[pos] == '<' ? detail::parseTag(html, pos, first) : 0;
    if (n == 0 || first.closing || first.selfClosing || first.name != "mx-reply")
        return std::string(html);
    // Count nesting: a fallback may quote a message that had one of its own.
    int depth = 1;
    pos += n;
    while (depth > 0 && pos < html.size()) {
        std::size_t lt = html.find('<', pos);
        if (lt == std::string_view::npos) break;
        pos = lt;
        if (std::size_t skipped = detail::skipNonElement(html, pos)) {
            pos += skipped;
            continue;
        }
        detail::Tag tag;
        std::size_t length = detail::parseTag(html, pos, tag);
        if (length == 0) {
            ++pos;
            continue;
        }
        pos += length;
        if (tag.name == "mx-reply" && !tag.selfClosing) depth += tag.closing ? -1 : 1;
    }
    // An unclosed fallback is not one we can tell from the reply: keep the message whole
    // rather than delete what the sender wrote.
    return depth > 0 ? std::string(html) : std::string(html.substr(pos));
}

std::string stripPlainReplyFallback(std::string_view body) {
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t nl = body.find('\n', pos);
        std::string_view line = body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (line != ">" && line.substr(0, 2) != "> ") break;
        if (nl == std::string_view::npos) return std::string(body);  // all quote: no reply text
        pos = nl + 1;
    }
    if (pos == 0) return std::string(body);
    if (pos < body.size() && body[pos] == '\n') ++pos;  // the empty line after the fallback
    if (pos >= body.size()) return std::string(body);
    return std::string(body.substr(pos));
}

}  // namespace mxbridge::format
