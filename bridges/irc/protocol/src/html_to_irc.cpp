// Matrix HTML to IRC text: the mIRC writer, a visitor of the shared Matrix HTML reader
// (mxbridge/format), which does the tolerant parsing. Here only what IRC shows: formatting
// codes, one line per block, "> " before quoted lines, list markers, "text (url)" links.
#include <algorithm>
#include <string>
#include <vector>

#include "mxbridge/format/html_reader.h"
#include "mxbridge/irc/formatting.h"

namespace mxbridge::irc {

namespace {

using namespace mxbridge::format;

// Deeper quotes and lists are not indented further, so a line's prefix stays short.
constexpr int kMaxPrefixDepth = 5;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

char codeOf(Style style) {
    switch (style) {
        case Style::Bold:
            return kBold;
        case Style::Italic:
            return kItalic;
        case Style::Underline:
            return kUnderline;
        case Style::Strikethrough:
            return kStrikethrough;
        case Style::Code:
            return kMonospace;
        case Style::Superscript:
        case Style::Subscript:
            return 0;  // IRC has no such thing; the text reads fine without
    }
    return 0;
}

// Blocks that put their content on lines of its own; table cells stay on their row's line.
bool startsLine(Block block) {
    switch (block) {
        case Block::Paragraph:
        case Block::Division:
        case Block::Table:
        case Block::TableRow:
        case Block::Details:
        case Block::Summary:
            return true;
        default:
            return false;
    }
}

class MircWriter : public HtmlVisitor {
public:
    // Text from the document; the reader has collapsed its whitespace outside code blocks.
    void text(std::string_view s) override {
        for (char c : s) {
            if (pre_ > 0) {
                if (c == '\n')
                    lineBreak();
                else
                    emitChar(c);
                continue;
            }
            if (isSpace(c)) {
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

    void lineBreak() override {
        out_ += '\n';
        atLineStart_ = true;
        pendingSpace_ = false;
        afterColour_ = false;
    }

    void horizontalRule() override { startLine(); }

    // Custom emoji are images whose alt text is the emoji's name.
    void image(const Image& image) override { text(image.alt); }

    void beginStyle(Style style) override { toggleOn(codeOf(style)); }
    void endStyle(Style style) override { toggleOff(codeOf(style)); }

    void beginHeading(const Heading&) override {
        startLine();
        toggleOn(kBold);
    }
    void endHeading(const Heading&) override {
        toggleOff(kBold);
        startLine();
    }

    void beginBlock(Block block) override {
        if (startsLine(block)) startLine();
    }
    void endBlock(Block block) override {
        if (startsLine(block)) startLine();
    }

    void beginQuote(const Quote&) override {
        startLine();
        ++quote_;
    }
    void endQuote(const Quote&) override {
        --quote_;
        startLine();
    }

    void beginCodeBlock(const CodeBlock&) override {
        startLine();
        ++pre_;
        toggleOn(kMonospace);
    }
    void endCodeBlock(const CodeBlock&) override {
        toggleOff(kMonospace);
        --pre_;
        startLine();
    }

    void beginList(const List&) override { startLine(); }
    void endList(const List&) override { startLine(); }

    void beginListItem(const ListItem& item) override {
        startLine();
        std::string marker(
            static_cast<std::size_t>(2 * std::min(kMaxPrefixDepth, std::max(0, item.depth - 1))), ' ');
        marker += item.ordered ? std::to_string(item.number) + ". " : "* ";
        emitContent(marker);
    }
    void endListItem(const ListItem&) override { startLine(); }

    void beginLink(const Link&) override { linkStarts_.push_back(out_.size()); }
    void endLink(const Link& link) override {
        std::size_t start = linkStarts_.empty() ? out_.size() : linkStarts_.back();
        if (!linkStarts_.empty()) linkStarts_.pop_back();
        // Pills show a name on Matrix; on IRC the name alone reads right.
        if (link.matrix || startsWith(link.href, "https://matrix.to/")) return;
        std::string shown = ircStripFormatting(std::string_view(out_).substr(std::min(start, out_.size())));
        while (!shown.empty() && isSpace(shown.back())) shown.pop_back();
        while (!shown.empty() && isSpace(shown.front())) shown.erase(0, 1);
        if (shown.empty()) {
            emitContent(link.href);
            return;
        }
        if (shown == link.href || "mailto:" + shown == link.href || "http://" + shown == link.href ||
            "https://" + shown == link.href)
            return;
        emitContent(" (" + link.href + ")");
    }

    void beginColour(const Colour& colour) override {
        colours_.push_back({colour.foreground ? nearestMircColour(*colour.foreground) : 99,
                            colour.background ? nearestMircColour(*colour.background) : -1});
        emitColour();
    }
    void endColour(const Colour&) override {
        if (!colours_.empty()) colours_.pop_back();
        emitColour();
    }

    std::string finish() {
        std::string result;
        result.reserve(out_.size());
        // Trim each line's trailing spaces and drop blank lines at both ends.
        std::size_t start = 0;
        std::vector<std::string> lines;
        while (start <= out_.size()) {
            std::size_t nl = out_.find('\n', start);
            std::string line = out_.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            // U+00A0 (&nbsp;) survived whitespace collapsing; on IRC it is a plain space.
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

private:
    // Nested identical styles toggle only at the outermost level.
    void toggleOn(char code) {
        if (code != 0 && toggleCount(code)++ == 0) emitCode(std::string(1, code));
    }
    void toggleOff(char code) {
        if (code != 0 && toggleCount(code) > 0 && --toggleCount(code) == 0) emitCode(std::string(1, code));
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

    void startLine() {
        if (!atLineStart_ && !out_.empty()) lineBreak();
        pendingSpace_ = false;
    }

    std::string out_;
    std::vector<std::size_t> linkStarts_;  // where each open link's text began in out_
    std::vector<std::pair<int, int>> colours_;
    int bold_ = 0, italic_ = 0, underline_ = 0, strike_ = 0, mono_ = 0;
    int pre_ = 0;
    int quote_ = 0;
    bool atLineStart_ = true;
    bool pendingSpace_ = false;
    bool afterColour_ = false;
};

}  // namespace

std::string htmlToIrc(std::string_view html) {
    MircWriter writer;
    readHtml(html, writer);
    return writer.finish();
}

}  // namespace mxbridge::irc
