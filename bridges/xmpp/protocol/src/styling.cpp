#include "mxbridge/xmpp/styling.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/plain_text.h"

namespace mxbridge::xmpp {

namespace {

using format::HtmlWriter;
using format::Style;

// Quotations nested deeper than this, and spans inside spans deeper than this, are read as
// plain text: a hostile body cannot make the reader recurse without bound.
constexpr int kMaxQuoteDepth = 32;
constexpr int kMaxSpanDepth = 8;

constexpr std::string_view kDirectives = "*_~`";

// Whether the character starting at byte `i` is whitespace in the XEP's sense (Unicode
// White_Space or category Z): ASCII whitespace, and the UTF-8 forms of U+0085, U+00A0,
// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
bool whitespaceAt(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
    unsigned char c = byte(i);
    if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
    if (c == 0xC2) return byte(i + 1) == 0x85 || byte(i + 1) == 0xA0;
    if (c == 0xE1) return byte(i + 1) == 0x9A && byte(i + 2) == 0x80;
    if (c == 0xE2 && byte(i + 1) == 0x80) {
        unsigned char d = byte(i + 2);
        return (d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF;
    }
    if (c == 0xE2) return byte(i + 1) == 0x81 && byte(i + 2) == 0x9F;
    if (c == 0xE3) return byte(i + 1) == 0x80 && byte(i + 2) == 0x80;
    return false;
}

// Whether the character just before byte `i` (not before `begin`) is whitespace.
bool whitespaceBefore(std::string_view s, std::size_t i, std::size_t begin) {
    if (i <= begin) return false;
    std::size_t start = i - 1;
    while (start > begin && i - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    return whitespaceAt(s.substr(0, i), start);
}

Style styleOf(char directive) {
    switch (directive) {
        case '*': return Style::Bold;
        case '_': return Style::Italic;
        case '~': return Style::Strikethrough;
        default: return Style::Code;
    }
}

// Reads one body's blocks and spans into a writer.
class StylingReader {
public:
    explicit StylingReader(HtmlWriter& writer) : writer_(writer) {}

    void blocks(const std::vector<std::string_view>& lines, int quoteDepth) {
        bool afterLine = false;  // the previous block was a plain line: a break goes between
        for (std::size_t i = 0; i < lines.size();) {
            std::string_view line = lines[i];
            if (line.substr(0, 3) == "```") {
                std::size_t end = i + 1;
                while (end < lines.size() && lines[end] != "```") ++end;
                writer_.beginCodeBlock({});
                for (std::size_t k = i + 1; k < end; ++k) {
                    if (k > i + 1) writer_.text("\n");
                    writer_.text(lines[k]);
                }
                writer_.endCodeBlock({});
                styled_ = true;
                afterLine = false;
                i = std::min(end + 1, lines.size());
                continue;
            }
            if (!line.empty() && line[0] == '>' && quoteDepth < kMaxQuoteDepth) {
                std::vector<std::string_view> quoted;
                for (; i < lines.size() && !lines[i].empty() && lines[i][0] == '>'; ++i) {
                    std::string_view inner = lines[i].substr(1);
                    if (!inner.empty() && (inner[0] == ' ' || inner[0] == '\t')) inner.remove_prefix(1);
                    quoted.push_back(inner);
                }
                writer_.beginQuote({});
                blocks(quoted, quoteDepth + 1);
                writer_.endQuote({});
                styled_ = true;
                afterLine = false;
                continue;
            }
            if (afterLine) writer_.lineBreak();
            spansOfLine(line);
            afterLine = true;
            ++i;
        }
    }

    bool styled() const { return styled_; }

private:
    void spansOfLine(std::string_view line) {
        // Where each directive could close a span (not after whitespace), in order: a span's
        // end is then found by a binary search, so a long line costs n log n, not n².
        for (std::size_t d = 0; d < kDirectives.size(); ++d) closers_[d].clear();
        for (std::size_t j = 1; j < line.size(); ++j) {
            auto d = kDirectives.find(line[j]);
            if (d != std::string_view::npos && !whitespaceBefore(line, j, 0)) closers_[d].push_back(j);
        }
        spans(line, 0, line.size(), 0);
    }

    // The spans of line[begin, end); `begin` is the start of a block or just after an
    // opening directive, where a directive may open.
    void spans(std::string_view line, std::size_t begin, std::size_t end, int depth) {
        std::size_t plain = begin;
        for (std::size_t i = begin; i < end; ++i) {
            auto d = kDirectives.find(line[i]);
            if (d == std::string_view::npos || depth >= kMaxSpanDepth) continue;
            if (i != begin && !whitespaceBefore(line, i, begin)) continue;
            if (i + 1 >= end || whitespaceAt(line, i + 1)) continue;
            // The span needs text between the directives, and a run of the directive itself
            // is none ("***" styles nothing).
            std::size_t text = i + 1;
            while (text < end && line[text] == line[i]) ++text;
            const auto& closers = closers_[d];
            auto close = std::lower_bound(closers.begin(), closers.end(), std::max(i + 2, text + 1));
            if (close == closers.end() || *close >= end) continue;
            writer_.text(line.substr(plain, i - plain));
            Style style = styleOf(line[i]);
            writer_.beginStyle(style);
            writer_.text(line.substr(i, 1));
            if (line[i] == '`')
                writer_.text(line.substr(i + 1, *close - i - 1));  // no spans inside `pre`
            else
                spans(line, i + 1, *close, depth + 1);
            writer_.text(line.substr(*close, 1));
            writer_.endStyle(style);
            styled_ = true;
            i = *close;
            plain = i + 1;
        }
        writer_.text(line.substr(plain, end - plain));
    }

    HtmlWriter& writer_;
    std::array<std::vector<std::size_t>, 4> closers_;
    bool styled_ = false;
};

}  // namespace

std::optional<std::string> stylingToHtml(std::string_view body) {
    std::vector<std::string_view> lines;
    for (std::size_t start = 0;;) {
        std::size_t nl = body.find('\n', start);
        std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    HtmlWriter writer;
    StylingReader reader(writer);
    reader.blocks(lines, 0);
    if (!reader.styled()) return std::nullopt;
    return writer.finish();
}

std::string htmlToStyling(std::string_view html) {
    static const format::PlainTextMarkup markup{
        .style =
            [](Style style) -> std::string {
                switch (style) {
                    case Style::Bold: return "*";
                    case Style::Italic: return "_";
                    case Style::Strikethrough: return "~";
                    case Style::Code: return "`";
                    default: return "";  // underline, super- and subscript: XMPP has none
                }
            },
        .codeFence = [](const format::CodeBlock&, bool) -> std::string { return "```"; },
        .quotePrefix = "> ",
    };
    return format::htmlToPlainText(html, markup);
}

}  // namespace mxbridge::xmpp
