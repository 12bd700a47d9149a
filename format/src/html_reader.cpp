// The Matrix HTML reader: tokens from html_tokenizer, an explicit stack of open elements,
// and a table from tag names to what they mean.
#include "mxbridge/format/html_reader.h"

#include <algorithm>
#include <variant>

#include "html_tokenizer.h"
#include "mxbridge/format/css_colour.h"

namespace mxbridge::format {

namespace {

using detail::Tag;

bool isVoidElement(std::string_view name) {
    return name == "br" || name == "img" || name == "hr" || name == "input" || name == "meta" ||
           name == "link" || name == "wbr" || name == "area" || name == "col" ||
           name == "source";
}

// Elements whose content is dropped: scripts and styles mean nothing in a chat message, and
// <mx-reply> is a reply fallback, which the spec says to strip (v1.13, "Rich replies").
bool isDroppedWithContent(std::string_view name) {
    return name == "mx-reply" || name == "script" || name == "style";
}

std::optional<Style> styleOf(std::string_view name) {
    if (name == "b" || name == "strong") return Style::Bold;
    if (name == "i" || name == "em") return Style::Italic;
    if (name == "u" || name == "ins") return Style::Underline;
    if (name == "del" || name == "s" || name == "strike") return Style::Strikethrough;
    if (name == "code") return Style::Code;
    if (name == "sup") return Style::Superscript;
    if (name == "sub") return Style::Subscript;
    return std::nullopt;
}

std::optional<Block> blockOf(std::string_view name) {
    if (name == "p") return Block::Paragraph;
    if (name == "div") return Block::Division;
    if (name == "table") return Block::Table;
    if (name == "thead") return Block::TableHead;
    if (name == "tbody") return Block::TableBody;
    if (name == "tr") return Block::TableRow;
    if (name == "th") return Block::TableHeaderCell;
    if (name == "td") return Block::TableCell;
    if (name == "caption") return Block::Caption;
    if (name == "details") return Block::Details;
    if (name == "summary") return Block::Summary;
    return std::nullopt;
}

std::optional<int> headingLevel(std::string_view name) {
    if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6') return name[1] - '0';
    return std::nullopt;
}

// Elements that still mean something when empty ("<p/>", "<li/>"): each ends a line.
bool isLineElement(std::string_view name) {
    return blockOf(name) || headingLevel(name) || name == "li" || name == "blockquote" ||
           name == "pre" || name == "ul" || name == "ol";
}

// Removes what no URL holds raw (controls, spaces), so no writer passes a line break on.
std::string cleanHref(std::string_view href) {
    std::string out;
    for (char c : href)
        if (static_cast<unsigned char>(c) > 0x20 && c != 0x7F) out += c;
    return out;
}

std::optional<int> smallNumber(const std::string* text) {
    if (!text || text->empty() || text->size() > 5 ||
        text->find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoi(*text);
}

// "language-rust" among the classes of a <code>, as "rust".
std::string languageOf(const Tag& code) {
    const std::string* classes = code.attribute("class");
    if (!classes) return {};
    constexpr std::string_view kPrefix = "language-";
    std::size_t pos = 0;
    while (pos < classes->size()) {
        while (pos < classes->size() && detail::isHtmlSpace((*classes)[pos])) ++pos;
        std::size_t end = pos;
        while (end < classes->size() && !detail::isHtmlSpace((*classes)[end])) ++end;
        std::string_view one = std::string_view(*classes).substr(pos, end - pos);
        if (one.substr(0, kPrefix.size()) == kPrefix) {
            std::string language(one.substr(kPrefix.size()));
            bool plain = language.size() <= 32 && std::all_of(language.begin(), language.end(), [](char c) {
                             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '.' ||
                                    c == '_' || c == '-';
                         });
            return plain ? language : std::string();
        }
        pos = end;
    }
    return {};
}

using Reported = std::variant<Style, Link, Colour, Spoiler, Block, Heading, Quote, CodeBlock, List,
                              ListItem>;

void begin(HtmlVisitor& v, const Reported& r) {
    struct Begin {
        HtmlVisitor& v;
        void operator()(Style s) const { v.beginStyle(s); }
        void operator()(const Link& l) const { v.beginLink(l); }
        void operator()(const Colour& c) const { v.beginColour(c); }
        void operator()(const Spoiler& s) const { v.beginSpoiler(s); }
        void operator()(Block b) const { v.beginBlock(b); }
        void operator()(const Heading& h) const { v.beginHeading(h); }
        void operator()(const Quote& q) const { v.beginQuote(q); }
        void operator()(const CodeBlock& c) const { v.beginCodeBlock(c); }
        void operator()(const List& l) const { v.beginList(l); }
        void operator()(const ListItem& i) const { v.beginListItem(i); }
    };
    std::visit(Begin{v}, r);
}

void end(HtmlVisitor& v, const Reported& r) {
    struct End {
        HtmlVisitor& v;
        void operator()(Style s) const { v.endStyle(s); }
        void operator()(const Link& l) const { v.endLink(l); }
        void operator()(const Colour& c) const { v.endColour(c); }
        void operator()(const Spoiler& s) const { v.endSpoiler(s); }
        void operator()(Block b) const { v.endBlock(b); }
        void operator()(const Heading& h) const { v.endHeading(h); }
        void operator()(const Quote& q) const { v.endQuote(q); }
        void operator()(const CodeBlock& c) const { v.endCodeBlock(c); }
        void operator()(const List& l) const { v.endList(l); }
        void operator()(const ListItem& i) const { v.endListItem(i); }
    };
    std::visit(End{v}, r);
}

class HtmlReader {
public:
    HtmlReader(std::string_view html, HtmlVisitor& visitor, const HtmlReaderOptions& options)
        : html_(html), visitor_(visitor), options_(options) {}

    void run() {
        while (pos_ < html_.size()) {
            if (html_[pos_] == '<' && markup()) continue;
            std::size_t end = html_.find('<', pos_ + 1);
            if (end == std::string_view::npos) end = html_.size();
            if (dropping_.empty()) text(html_.substr(pos_, end - pos_));
            pos_ = end;
        }
        while (!open_.empty()) closeInnermost();
    }

private:
    struct OpenElement {
        std::string name;
        std::vector<Reported> reported;  // what its begin told the visitor, in order
        bool counted = true;              // counts towards maxDepth
    };

    // Handles the markup at pos_; false when the '<' starts none (it is then text).
    bool markup() {
        if (std::size_t n = detail::skipNonElement(html_, pos_)) {
            pos_ += n;
            return true;
        }
        Tag tag;
        std::size_t n = detail::parseTag(html_, pos_, tag);
        if (n == 0) return false;
        pos_ += n;
        if (!dropping_.empty()) {
            // Inside a dropped element only its own nesting matters.
            if (tag.name == dropping_ && !tag.selfClosing) dropDepth_ += tag.closing ? -1 : 1;
            if (dropDepth_ == 0) dropping_.clear();
        } else if (tag.closing) {
            closeTag(tag.name);
        } else {
            openTag(tag);
        }
        return true;
    }

    void openTag(const Tag& tag) {
        const std::string& name = tag.name;
        if (isDroppedWithContent(name)) {
            if (!tag.selfClosing) {
                dropping_ = name;
                dropDepth_ = 1;
            }
            return;
        }
        if (name == "br") return visitor_.lineBreak();
        if (name == "hr") return visitor_.horizontalRule();
        if (name == "img") return visitor_.image(imageOf(tag));
        if (isVoidElement(name)) return;
        // An empty inline element ("<b/>") shows nothing; an empty block still ends a line.
        if (tag.selfClosing && !isLineElement(name)) return;
        // "<li>a<li>b": a new item ends the open one of the same list, as in HTML.
        if (name == "li") closeOpenItem();
        if (depth_ >= options_.maxDepth) return;

        OpenElement element{.name = name, .reported = meaningOf(tag), .counted = true};
        ++depth_;
        for (const Reported& r : element.reported) begin(visitor_, r);
        open_.push_back(std::move(element));
        if (tag.selfClosing) return closeInnermost();
        if (name == "pre") absorbCodeOfPre();
    }

    // What `tag` tells the visitor when it opens (nothing for unknown tags: their text stays).
    std::vector<Reported> meaningOf(const Tag& tag) {
        const std::string& name = tag.name;
        if (auto style = styleOf(name)) return {*style};
        if (auto block = blockOf(name)) return {*block};
        if (auto level = headingLevel(name)) return {Heading{.level = *level}};
        if (name == "blockquote") return {Quote{}};
        if (name == "pre")
            return {CodeBlock{.language = tag.selfClosing ? std::string() : languageOfCodeInPre()}};
        if (name == "ul" || name == "ol") {
            List list{.ordered = name == "ol", .start = 1, .depth = static_cast<int>(lists_.size()) + 1};
            if (list.ordered)
                if (auto start = smallNumber(tag.attribute("start"))) list.start = *start;
            lists_.push_back(OpenList{.ordered = list.ordered, .next = list.start});
            return {list};
        }
        if (name == "li") {
            ListItem item{.ordered = false, .number = 1, .depth = static_cast<int>(lists_.size())};
            if (!lists_.empty()) {
                item.ordered = lists_.back().ordered;
                item.number = lists_.back().next++;
            }
            return {item};
        }
        if (name == "a") {
            std::string href = cleanHref(tag.attributeOr("href"));
            if (href.empty()) return {};
            auto matrix = parseMatrixLink(href);
            return {Link{.href = std::move(href), .matrix = std::move(matrix)}};
        }
        if (name == "span" || name == "font") {
            std::vector<Reported> reported;
            if (const std::string* reason = tag.attribute("data-mx-spoiler"))
                reported.emplace_back(Spoiler{.reason = *reason});
            const std::string* fg = tag.attribute("data-mx-color");
            if (!fg) fg = tag.attribute("color");
            Colour colour{.foreground = fg ? parseCssColour(*fg) : std::nullopt,
                          .background = parseCssColour(tag.attributeOr("data-mx-bg-color"))};
            if (colour.foreground || colour.background) reported.emplace_back(colour);
            return reported;
        }
        return {};
    }

    // A <pre> opens a code block: HTML drops one line feed right after <pre>, and the
    // <code class="language-..."> that Markdown puts directly inside belongs to the block.
    // Called while pos_ is just past the <pre> tag.
    std::size_t lineEndAt(std::size_t at) const {
        if (html_.substr(at, 2) == "\r\n") return 2;
        return at < html_.size() && (html_[at] == '\n' || html_[at] == '\r') ? 1 : 0;
    }

    std::size_t codeAfterPre(Tag& code) const {
        std::size_t at = pos_ + lineEndAt(pos_);
        if (at >= html_.size() || html_[at] != '<') return 0;
        std::size_t n = detail::parseTag(html_, at, code);
        if (n == 0 || code.closing || code.name != "code" || code.selfClosing) return 0;
        return at + n - pos_;
    }

    std::string languageOfCodeInPre() const {
        Tag code;
        return codeAfterPre(code) > 0 ? languageOf(code) : std::string();
    }

    void absorbCodeOfPre() {
        Tag code;
        if (std::size_t n = codeAfterPre(code)) {
            pos_ += n;
            // Part of its <pre>, so not a level of its own: what HtmlWriter writes as 100
            // levels reads back as 100.
            open_.push_back(OpenElement{.name = "code", .reported = {}, .counted = false});
            return;
        }
        pos_ += lineEndAt(pos_);
    }

    void closeOpenItem() {
        for (std::size_t i = open_.size(); i-- > 0;) {
            if (open_[i].name == "ul" || open_[i].name == "ol") return;
            if (open_[i].name != "li") continue;
            while (open_.size() > i) closeInnermost();
            return;
        }
    }

    void closeTag(const std::string& name) {
        for (std::size_t i = open_.size(); i-- > 0;) {
            if (open_[i].name != name) continue;
            // Elements left open inside it close with it.
            while (open_.size() > i) closeInnermost();
            return;
        }
        // Browsers read a stray </p> as an empty paragraph and </br> as <br>.
        if (name == "p" || name == "br") visitor_.lineBreak();
    }

    void closeInnermost() {
        OpenElement element = std::move(open_.back());
        open_.pop_back();
        if (element.counted) --depth_;
        for (std::size_t i = element.reported.size(); i-- > 0;) {
            end(visitor_, element.reported[i]);
            if (std::holds_alternative<List>(element.reported[i])) lists_.pop_back();
        }
    }

    bool inCodeBlock() const {
        for (const OpenElement& e : open_)
            if (!e.reported.empty() && std::holds_alternative<CodeBlock>(e.reported.front()))
                return true;
        return false;
    }

    void text(std::string_view raw) {
        std::string decoded = detail::decodeEntities(raw);
        std::string out;
        out.reserve(decoded.size());
        if (inCodeBlock()) {
            for (std::size_t i = 0; i < decoded.size(); ++i) {
                if (decoded[i] != '\r') {
                    out += decoded[i];
                } else if (i + 1 >= decoded.size() || decoded[i + 1] != '\n') {
                    out += '\n';  // a lone CR ends a line, as HTML's input rules say
                }
            }
        } else {
            for (char c : decoded) {
                if (!detail::isHtmlSpace(c))
                    out += c;
                else if (out.empty() || out.back() != ' ')
                    out += ' ';
            }
        }
        if (!out.empty()) visitor_.text(out);
    }

    Image imageOf(const Tag& tag) const {
        return Image{.src = tag.attributeOr("src"),
                     .alt = tag.attributeOr("alt"),
                     .title = tag.attributeOr("title"),
                     .width = smallNumber(tag.attribute("width")),
                     .height = smallNumber(tag.attribute("height")),
                     .emoticon = tag.attribute("data-mx-emoticon") != nullptr};
    }

    std::string_view html_;
    HtmlVisitor& visitor_;
    const HtmlReaderOptions& options_;
    std::size_t pos_ = 0;
    std::vector<OpenElement> open_;
    std::size_t depth_ = 0;  // counted elements in open_
    struct OpenList {
        bool ordered = false;
        long next = 1;  // the number of its next item
    };
    std::vector<OpenList> lists_;  // innermost last
    std::string dropping_;        // the element whose content is being dropped, if any
    int dropDepth_ = 0;
};

}  // namespace

void readHtml(std::string_view html, HtmlVisitor& visitor, const HtmlReaderOptions& options) {
    HtmlReader(html, visitor, options).run();
}

}  // namespace mxbridge::format
