// Matrix HTML to IRC text. Not an HTML parser: a forgiving walker over tags and text that
// knows the handful of elements Matrix clients emit, and never fails on malformed input.
#include <algorithm>
#include <string>
#include <vector>

#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/text_encoding.h"

namespace mxbridge::irc {

namespace {

// Deeper nesting is treated as plain text, and deeper quotes/lists are not indented further,
// so output stays linear in the input whatever the nesting.
constexpr std::size_t kMaxOpenElements = 256;
constexpr int kMaxPrefixDepth = 5;

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool isAsciiAlnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Decodes one entity at text[pos] ('&'); returns bytes consumed, 0 when it is not one we know
// (the '&' is then kept literally, as browsers do).
std::size_t decodeEntity(std::string_view text, std::size_t pos, std::string& out) {
    std::size_t semi = text.find(';', pos);
    if (semi == std::string_view::npos || semi - pos > 12) return 0;
    std::string_view name = text.substr(pos + 1, semi - pos - 1);
    std::size_t used = semi - pos + 1;
    if (name == "amp") {
        out += '&';
        return used;
    }
    if (name == "lt") {
        out += '<';
        return used;
    }
    if (name == "gt") {
        out += '>';
        return used;
    }
    if (name == "quot") {
        out += '"';
        return used;
    }
    if (name == "apos") {
        out += '\'';
        return used;
    }
    // U+00A0 survives whitespace collapsing; finish() turns it into a plain space.
    if (name == "nbsp") {
        out += "\xC2\xA0";
        return used;
    }
    if (name.size() < 2 || name[0] != '#') return 0;
    bool hex = name[1] == 'x' || name[1] == 'X';
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
    else if (cp >= 0x20)
        appendUtf8(out, cp);
    // Other C0 controls (CR, mIRC codes) are dropped: an entity should not add formatting
    // or line breaks the sender didn't see.
    return used;
}

std::string decodeEntities(std::string_view text) {
    std::string out;
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

struct Tag {
    std::string name;  // lower-cased
    bool closing = false;
    bool selfClosing = false;
    std::vector<std::pair<std::string, std::string>> attrs;

    std::string attr(std::string_view key) const {
        for (const auto& [k, v] : attrs)
            if (k == key) return v;
        return {};
    }
};

// Parses a tag starting at html[pos] == '<'. Returns its length, or 0 when this '<' does not
// start a tag (it is then text).
std::size_t parseTag(std::string_view html, std::size_t pos, Tag& tag) {
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
        if (html[i] == '/') {
            tag.selfClosing = true;
            ++i;
            continue;
        }
        std::string key;
        while (i < html.size() && !isHtmlSpace(html[i]) && html[i] != '=' && html[i] != '>' &&
               html[i] != '/')
            key += asciiLower(html[i++]);
        if (key.empty()) {  // a stray '=' or similar
            ++i;
            continue;
        }
        tag.selfClosing = false;
        std::string value;
        if (i < html.size() && html[i] == '=') {
            ++i;
            if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
                char quote = html[i++];
                std::size_t end = html.find(quote, i);
                if (end == std::string_view::npos) return 0;
                value = decodeEntities(html.substr(i, end - i));
                i = end + 1;
            } else {
                std::size_t start = i;
                while (i < html.size() && !isHtmlSpace(html[i]) && html[i] != '>') ++i;
                value = decodeEntities(html.substr(start, i - start));
            }
        }
        tag.attrs.emplace_back(std::move(key), std::move(value));
    }
    return 0;
}

bool isVoidElement(std::string_view name) {
    return name == "br" || name == "img" || name == "hr" || name == "input" || name == "meta" ||
           name == "link" || name == "wbr" || name == "area" || name == "col" || name == "source";
}

bool isBlockElement(std::string_view name) {
    return name == "p" || name == "div" || name == "tr" || name == "table" || name == "h1" ||
           name == "h2" || name == "h3" || name == "h4" || name == "h5" || name == "h6" ||
           name == "details" || name == "summary" || name == "hr";
}

bool isHeading(std::string_view name) {
    return name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6';
}

// Removes characters that have no business in a URL shown on IRC (controls, spaces).
std::string cleanHref(std::string_view href) {
    std::string out;
    for (char c : href)
        if (static_cast<unsigned char>(c) > 0x20 && c != 0x7F) out += c;
    return out;
}

class HtmlToIrc {
public:
    std::string run(std::string_view html) {
        for (std::size_t i = 0; i < html.size();) {
            if (html[i] == '<') {
                std::size_t n = handleMarkup(html, i);
                if (n > 0) {
                    i += n;
                    continue;
                }
            }
            std::size_t end = html.find('<', i + 1);
            if (end == std::string_view::npos) end = html.size();
            if (skipName_.empty()) text(decodeEntities(html.substr(i, end - i)));
            i = end;
        }
        while (!open_.empty()) {
            close(open_.back());
            open_.pop_back();
        }
        return finish();
    }

private:
    struct Open {
        std::string name;
        char toggle = 0;  // the formatting code this element switched on, if any
        bool colour = false;
        bool link = false;
        bool quote = false;
        bool list = false;
        bool block = false;
        bool pre = false;
        std::size_t linkStart = 0;
        std::string href;
    };
    struct List {
        bool ordered = false;
        long next = 1;
    };

    // Comments, doctype and processing instructions are skipped; tags are acted on.
    std::size_t handleMarkup(std::string_view html, std::size_t pos) {
        std::string_view rest = html.substr(pos);
        if (startsWith(rest, "<!--")) {
            std::size_t end = rest.find("-->", 4);
            return end == std::string_view::npos ? rest.size() : end + 3;
        }
        if (startsWith(rest, "<!") || startsWith(rest, "<?")) {
            std::size_t end = rest.find('>');
            return end == std::string_view::npos ? rest.size() : end + 1;
        }
        Tag tag;
        std::size_t n = parseTag(html, pos, tag);
        if (n == 0) return 0;
        if (!skipName_.empty()) {
            // Inside <mx-reply>/<script>/<style>: only track nesting of the same element.
            if (tag.name == skipName_ && !tag.selfClosing) skipDepth_ += tag.closing ? -1 : 1;
            if (skipDepth_ == 0) skipName_.clear();
            return n;
        }
        if (tag.closing)
            closeTag(tag.name);
        else
            openTag(tag);
        return n;
    }

    void openTag(const Tag& tag) {
        const std::string& name = tag.name;
        if (name == "mx-reply" || name == "script" || name == "style") {
            if (!tag.selfClosing) {
                skipName_ = name;
                skipDepth_ = 1;
            }
            return;
        }
        if (name == "br") {
            lineBreak();
            return;
        }
        if (name == "img") {
            // Custom emoji are images whose alt text is the emoji's name.
            text(tag.attr("alt"));
            return;
        }
        if (name == "li") {
            startLine();
            std::string marker(
                static_cast<std::size_t>(
                    2 * std::min<int>(kMaxPrefixDepth,
                                      std::max<int>(0, static_cast<int>(lists_.size()) - 1))),
                ' ');
            if (!lists_.empty() && lists_.back().ordered)
                marker += std::to_string(lists_.back().next++) + ". ";
            else
                marker += "* ";
            emitContent(marker);
        }
        if (isVoidElement(name) || tag.selfClosing) {
            if (isBlockElement(name)) startLine();
            return;
        }
        if (open_.size() >= kMaxOpenElements) return;

        Open o;
        o.name = name;
        if (name == "b" || name == "strong" || isHeading(name))
            o.toggle = kBold;
        else if (name == "i" || name == "em")
            o.toggle = kItalic;
        else if (name == "u" || name == "ins")
            o.toggle = kUnderline;
        else if (name == "del" || name == "s" || name == "strike")
            o.toggle = kStrikethrough;
        else if (name == "code" || name == "pre")
            o.toggle = kMonospace;

        if (name == "pre") {
            o.pre = true;
            o.block = true;
            startLine();
            ++pre_;
        } else if (name == "blockquote") {
            o.quote = true;
            startLine();
            ++quote_;
        } else if (name == "ul" || name == "ol") {
            o.list = true;
            startLine();
            List l;
            l.ordered = name == "ol";
            std::string start = tag.attr("start");
            if (l.ordered && !start.empty() && start.size() < 9 &&
                start.find_first_not_of("0123456789") == std::string::npos)
                l.next = std::stol(start);
            lists_.push_back(l);
        } else if (isBlockElement(name) || name == "li") {
            o.block = true;
            if (name != "li") startLine();
        } else if (name == "a") {
            o.link = true;
            o.linkStart = out_.size();
            o.href = cleanHref(tag.attr("href"));
        }

        if (name == "font" || name == "span") {
            std::string fgText = tag.attr("data-mx-color");
            if (fgText.empty()) fgText = tag.attr("color");
            auto fg = parseHtmlColour(fgText);
            auto bg = parseHtmlColour(tag.attr("data-mx-bg-color"));
            if (fg || bg) {
                o.colour = true;
                colours_.push_back(
                    {fg ? nearestMircColour(*fg) : 99, bg ? nearestMircColour(*bg) : -1});
                emitColour();
            }
        }
        if (o.toggle != 0 && toggleCount(o.toggle)++ == 0) emitCode(std::string(1, o.toggle));
        open_.push_back(std::move(o));
    }

    void closeTag(const std::string& name) {
        for (std::size_t i = open_.size(); i-- > 0;) {
            if (open_[i].name != name) continue;
            // Elements left open inside it close with it, as browsers do for formatting.
            while (open_.size() > i) {
                close(open_.back());
                open_.pop_back();
            }
            return;
        }
        if (name == "p" || name == "br")
            lineBreak();  // a stray </p> or </br> still separates lines in browsers
    }

    void close(Open& o) {
        if (o.toggle != 0 && --toggleCount(o.toggle) == 0) emitCode(std::string(1, o.toggle));
        if (o.colour) {
            colours_.pop_back();
            emitColour();
        }
        if (o.link) finishLink(o);
        if (o.pre) {
            --pre_;
            startLine();
        }
        if (o.quote) {
            --quote_;
            startLine();
        }
        if (o.list) {
            lists_.pop_back();
            startLine();
        }
        if (o.block) startLine();
    }

    void finishLink(const Open& o) {
        if (o.href.empty()) return;
        // Pills (matrix.to links) show a name on Matrix; on IRC the name alone reads right.
        if (startsWith(o.href, "https://matrix.to/")) return;
        std::string shown =
            ircStripFormatting(std::string_view(out_).substr(std::min(o.linkStart, out_.size())));
        while (!shown.empty() && isHtmlSpace(shown.back())) shown.pop_back();
        while (!shown.empty() && isHtmlSpace(shown.front())) shown.erase(0, 1);
        if (shown.empty()) {
            emitContent(o.href);
            return;
        }
        if (shown == o.href || "mailto:" + shown == o.href || "http://" + shown == o.href ||
            "https://" + shown == o.href)
            return;
        emitContent(" (" + o.href + ")");
    }

    int& toggleCount(char code) {
        switch (code) {
            case kBold:
                return bold_;
            case kItalic:
                return italic_;
            case kUnderline:
                return underline_;
            case kStrikethrough:
                return strike_;
            default:
                return mono_;
        }
    }

    void emitColour() {
        if (colours_.empty()) {
            emitCode(std::string(1, kColour));
            return;
        }
        auto [fg, bg] = colours_.back();
        std::string code(1, kColour);
        code += static_cast<char>('0' + fg / 10);
        code += static_cast<char>('0' + fg % 10);
        if (bg >= 0) {
            code += ',';
            code += static_cast<char>('0' + bg / 10);
            code += static_cast<char>('0' + bg % 10);
        }
        emitCode(code);
    }

    void emitCode(const std::string& code) {
        // "a <b>b</b>": the space belongs before the code, so it is not inside the bold.
        if (pendingSpace_) {
            pendingSpace_ = false;
            emitChar(' ');
        }
        out_ += code;
        afterColour_ = code[0] == kColour;
    }

    // Text from the document: whitespace collapses outside <pre>.
    void text(std::string_view s) {
        for (char c : s) {
            if (pre_ > 0) {
                if (c == '\r') continue;
                if (c == '\n')
                    lineBreak();
                else
                    emitChar(c);
                continue;
            }
            if (isHtmlSpace(c)) {
                pendingSpace_ = !atLineStart_;
                continue;
            }
            if (pendingSpace_) {
                pendingSpace_ = false;
                emitChar(' ');
            }
            emitChar(c);
        }
    }

    // Text we add ourselves (markers, link targets): no collapsing.
    void emitContent(std::string_view s) {
        if (pendingSpace_) {
            pendingSpace_ = false;
            emitChar(' ');
        }
        for (char c : s) emitChar(c);
    }

    void emitChar(char c) {
        if (atLineStart_) {
            for (int i = 0; i < std::min(quote_, kMaxPrefixDepth); ++i) out_ += "> ";
            atLineStart_ = false;
        }
        // A bare colour code followed by a digit or comma would swallow it; a bold toggle
        // pair in between is invisible and stops that.
        if (afterColour_ && ((c >= '0' && c <= '9') || c == ',')) {
            out_ += kBold;
            out_ += kBold;
        }
        afterColour_ = false;
        out_ += c;
    }

    void lineBreak() {
        out_ += '\n';
        atLineStart_ = true;
        pendingSpace_ = false;
        afterColour_ = false;
    }

    void startLine() {
        if (!atLineStart_ && !out_.empty()) lineBreak();
        pendingSpace_ = false;
    }

    std::string finish() {
        std::string result;
        result.reserve(out_.size());
        // Trim each line's trailing spaces and drop blank lines at both ends.
        std::size_t start = 0;
        std::vector<std::string> lines;
        while (start <= out_.size()) {
            std::size_t nl = out_.find('\n', start);
            std::string line =
                out_.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            std::string nbspFree;
            for (std::size_t i = 0; i < line.size(); ++i) {
                if (line[i] == '\xC2' && i + 1 < line.size() && line[i + 1] == '\xA0') {
                    nbspFree += ' ';
                    ++i;
                } else {
                    nbspFree += line[i];
                }
            }
            while (!nbspFree.empty() && nbspFree.back() == ' ') nbspFree.pop_back();
            lines.push_back(std::move(nbspFree));
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        auto visible = [](const std::string& l) { return !ircStripFormatting(l).empty(); };
        std::size_t first = 0, last = lines.size();
        while (first < last && !visible(lines[first])) ++first;
        while (last > first && !visible(lines[last - 1])) --last;
        for (std::size_t i = first; i < last; ++i) {
            if (i > first) result += '\n';
            result += lines[i];
        }
        return result;
    }

    std::string out_;
    std::vector<Open> open_;
    std::vector<std::pair<int, int>> colours_;
    std::vector<List> lists_;
    std::string skipName_;
    int skipDepth_ = 0;
    int bold_ = 0, italic_ = 0, underline_ = 0, strike_ = 0, mono_ = 0;
    int pre_ = 0;
    int quote_ = 0;
    bool atLineStart_ = true;
    bool pendingSpace_ = false;
    bool afterColour_ = false;
};

}  // namespace

std::string htmlToIrc(std::string_view html) { return HtmlToIrc().run(html); }

}  // namespace mxbridge::irc
