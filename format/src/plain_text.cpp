#include "mxbridge/format/plain_text.h"

#include <algorithm>
#include <map>
#include <vector>

#include "mxbridge/format/html_reader.h"

namespace mxbridge::format {

namespace {

// Quotes and lists deeper than this are not indented further: a line's prefix stays short.
constexpr int kMaxPrefixDepth = 5;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Blocks whose content stands on lines of its own; table cells share their row's line.
bool ownsLines(Block block) {
    return block == Block::Paragraph || block == Block::Division || block == Block::Table ||
           block == Block::TableRow || block == Block::Details || block == Block::Summary;
}

class PlainTextWriter : public HtmlVisitor {
public:
    explicit PlainTextWriter(const PlainTextMarkup& markup) : markup_(markup) {}

    void text(std::string_view s) override {
        for (char c : s) {
            if (inCode_ > 0) {
                if (c == '\n')
                    newLine();
                else
                    put(c);
            } else if (isSpace(c)) {
                spacePending_ = !atLineStart_;
            } else {
                flushSpace();
                put(c);
            }
        }
    }

    void lineBreak() override { newLine(); }
    void horizontalRule() override { endLine(); }
    void image(const Image& image) override { text(image.alt); }  // custom emoji: their name

    void beginStyle(Style style) override { mark(style, true); }
    void endStyle(Style style) override { mark(style, false); }

    void beginHeading(const Heading&) override {
        endLine();
        mark(Style::Bold, true);
    }
    void endHeading(const Heading&) override {
        mark(Style::Bold, false);
        endLine();
    }

    void beginBlock(Block block) override {
        if (ownsLines(block)) endLine();
    }
    void endBlock(Block block) override {
        if (ownsLines(block)) endLine();
    }

    void beginQuote(const Quote&) override {
        endLine();
        ++quoteDepth_;
    }
    void endQuote(const Quote&) override {
        --quoteDepth_;
        endLine();
    }

    void beginCodeBlock(const CodeBlock& block) override {
        endLine();
        fence(block, true);
        ++inCode_;
    }
    void endCodeBlock(const CodeBlock& block) override {
        --inCode_;
        endLine();
        fence(block, false);
    }

    void beginList(const List&) override { endLine(); }
    void endList(const List&) override { endLine(); }
    void beginListItem(const ListItem& item) override {
        endLine();
        std::string marker(static_cast<std::size_t>(2 * std::clamp(item.depth - 1, 0, kMaxPrefixDepth)), ' ');
        marker += item.ordered ? std::to_string(item.number) + ". " : "• ";
        putText(marker);
    }
    void endListItem(const ListItem&) override { endLine(); }

    void beginLink(const Link&) override { linkTextStarts_.push_back(out_.size()); }
    void endLink(const Link& link) override {
        std::size_t start = std::min(linkTextStarts_.empty() ? out_.size() : linkTextStarts_.back(), out_.size());
        if (!linkTextStarts_.empty()) linkTextStarts_.pop_back();
        // A pill shows a name, and the name alone reads right.
        if (link.matrix || link.href.rfind("https://matrix.to/", 0) == 0) return;
        std::string shown = out_.substr(start);
        auto first = shown.find_first_not_of(" \n");
        auto last = shown.find_last_not_of(" \n");
        shown = first == std::string::npos ? "" : shown.substr(first, last - first + 1);
        if (shown.empty()) {
            putText(link.href);
            return;
        }
        for (std::string_view scheme : {"", "mailto:", "http://", "https://"})
            if (std::string(scheme) + shown == link.href) return;
        putText(" (" + link.href + ")");
    }

    std::string finish() {
        std::vector<std::string> lines;
        std::size_t start = 0;
        for (;;) {
            std::size_t nl = out_.find('\n', start);
            std::string_view raw = std::string_view(out_).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            std::string line;  // a no-break space (which survived collapsing) as a space
            for (std::size_t i = 0; i < raw.size(); ++i) {
                bool nbsp = raw.substr(i, 2) == "\xC2\xA0";
                line += nbsp ? ' ' : raw[i];
                if (nbsp) ++i;
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            lines.push_back(std::move(line));
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        std::size_t first = 0, last = lines.size();
        while (first < last && lines[first].empty()) ++first;
        while (last > first && lines[last - 1].empty()) --last;
        std::string result;
        for (std::size_t i = first; i < last; ++i) {
            if (i > first) result += '\n';
            result += lines[i];
        }
        return result;
    }

private:
    void mark(Style style, bool opening) {
        int& open = openStyles_[style];
        bool outermost = opening ? open++ == 0 : (open > 0 && --open == 0);
        if (!outermost || !markup_.style) return;
        std::string marker = markup_.style(style);
        if (marker.empty()) return;
        // "a <b>b</b>": the space goes before an opening marker; a closing one goes before
        // the space that preceded it.
        if (opening) flushSpace();
        put(marker);
    }

    void fence(const CodeBlock& block, bool opening) {
        if (!markup_.codeFence) return;
        std::string line = markup_.codeFence(block, opening);
        if (line.empty()) return;
        put(line);
        newLine();
    }

    // Text the writer adds (markers, urls): never collapsed.
    void putText(std::string_view s) {
        flushSpace();
        put(s);
    }

    void flushSpace() {
        if (!spacePending_) return;
        spacePending_ = false;
        put(' ');
    }

    void put(std::string_view s) {
        for (char c : s) put(c);
    }
    void put(char c) {
        if (atLineStart_) {
            for (int i = 0; i < std::min(quoteDepth_, kMaxPrefixDepth); ++i) out_ += markup_.quotePrefix;
            atLineStart_ = false;
        }
        out_ += c;
    }

    void newLine() {
        out_ += '\n';
        atLineStart_ = true;
        spacePending_ = false;
    }
    // Starts a line unless at the start of one already.
    void endLine() {
        if (!atLineStart_ && !out_.empty()) newLine();
        spacePending_ = false;
    }

    const PlainTextMarkup& markup_;
    std::string out_;
    std::vector<std::size_t> linkTextStarts_;
    std::map<Style, int> openStyles_;
    int inCode_ = 0;
    int quoteDepth_ = 0;
    bool atLineStart_ = true;
    bool spacePending_ = false;
};

}  // namespace

std::string htmlToPlainText(std::string_view html, const PlainTextMarkup& markup) {
    PlainTextWriter writer(markup);
    readHtml(html, writer);
    return writer.finish();
}

}  // namespace mxbridge::format
