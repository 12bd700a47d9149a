// formatted_body HTML that cannot carry more than the spec's allowed tags and attributes.
#include "mxbridge/format/html_writer.h"

#include <utility>

#include "mxbridge/format/css_colour.h"
#include "mxbridge/format/html_reader.h"

namespace mxbridge::format {

namespace {

// The spec's "Tags must not be nested more than 100 levels deep".
constexpr std::size_t kMaxDepth = 100;

std::string_view tagOf(Style style) {
    switch (style) {
        case Style::Bold:
            return "b";
        case Style::Italic:
            return "i";
        case Style::Underline:
            return "u";
        case Style::Strikethrough:
            return "del";
        case Style::Code:
            return "code";
        case Style::Superscript:
            return "sup";
        case Style::Subscript:
            return "sub";
    }
    return "span";
}

std::string_view tagOf(Block block) {
    switch (block) {
        case Block::Paragraph:
            return "p";
        case Block::Division:
            return "div";
        case Block::Table:
            return "table";
        case Block::TableHead:
            return "thead";
        case Block::TableBody:
            return "tbody";
        case Block::TableRow:
            return "tr";
        case Block::TableHeaderCell:
            return "th";
        case Block::TableCell:
            return "td";
        case Block::Caption:
            return "caption";
        case Block::Details:
            return "details";
        case Block::Summary:
            return "summary";
    }
    return "div";
}

// Attribute values are bounded so that a tag we write, escaped, always reads back as a tag
// (see kMaxTagBytes in html_tokenizer.h): six bytes escaped for one, five attributes at most
// in one tag (<img>), or the one href of an <a>. A longer link is written as its text.
constexpr std::size_t kMaxAttributeBytes = 2048;
constexpr std::size_t kMaxLinkBytes = 8192;

// The longest prefix of `text` within kMaxAttributeBytes that ends on a character boundary.
std::string_view bounded(std::string_view text) {
    if (text.size() <= kMaxAttributeBytes) return text;
    std::size_t end = kMaxAttributeBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end);
}

// ` name="value"`, escaped.
std::string attribute(std::string_view name, std::string_view value) {
    value = bounded(value);
    std::string out = " ";
    out += name;
    out += "=\"";
    out += escapeHtml(value);
    out += '"';
    return out;
}

bool isMxc(std::string_view src) {
    return src.substr(0, 6) == "mxc://" && src.size() > 6 && src.size() <= kMaxAttributeBytes &&
           src.find_first_of(std::string_view("\"'<> \t\r\n\0", 10)) == std::string_view::npos;
}

}  // namespace

std::string escapeHtml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

bool isSafeLinkTarget(std::string_view href) {
    if (href.size() > kMaxLinkBytes) return false;
    std::size_t colon = href.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;  // relative: no scheme
    std::string scheme;
    for (char c : href.substr(0, colon)) {
        bool schemeChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        if (!schemeChar) return false;
        scheme += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    for (char c : href)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
    return scheme == "https" || scheme == "http" || scheme == "ftp" || scheme == "mailto" ||
           scheme == "magnet" || scheme == "matrix";
}

void HtmlWriter::open(std::string_view tag, std::string_view attributes) {
    if (tag.empty() || open_.size() >= kMaxDepth) {
        open_.emplace_back();
        return;
    }
    html_ += '<';
    html_ += tag;
    html_ += attributes;
    html_ += '>';
    open_.push_back("</" + std::string(tag) + ">");
}

void HtmlWriter::close() {
    if (open_.empty()) return;
    html_ += open_.back();
    open_.pop_back();
}

void HtmlWriter::text(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        // A reader turns CR and CR LF in a code block into one line feed (HTML's input
        // rules), so writing them as that is what reads back the same. A CR can reach here
        // from an image's alt text, where a character reference may have put it.
        if (c == '\r' && codeBlocks_ > 0) {
            if (i + 1 < text.size() && text[i + 1] == '\n') continue;
            c = '\n';
        }
        // HTML shows a run of spaces as one, across tags too ("a <b> b</b>"): writing the
        // run as one space means what we write reads back as what we were given.
        bool space = c == ' ' || c == '\t' || c == '\r' || c == '\f';
        if (space && codeBlocks_ == 0) {
            if (!afterSpace_) html_ += ' ';
            afterSpace_ = true;
            continue;
        }
        afterSpace_ = false;
        if (c == '\n' && codeBlocks_ == 0)
            html_ += "<br>";
        else if (c == '\0')
            html_ += "\xEF\xBF\xBD";  // NUL has no place in an HTML document
        else if (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')
            html_ += escapeHtml(std::string_view(&c, 1));
        else
            html_ += c;
    }
}

// Like a '\n' in text(): a space after the break is written.
void HtmlWriter::lineBreak() {
    afterSpace_ = false;
    html_ += "<br>";
}
void HtmlWriter::horizontalRule() { html_ += "<hr>"; }

void HtmlWriter::image(const Image& image) {
    if (!isMxc(image.src)) {
        text(image.alt);
        return;
    }
    afterSpace_ = false;
    html_ += "<img";
    if (image.emoticon) html_ += " data-mx-emoticon";
    html_ += attribute("src", image.src);
    if (!image.alt.empty()) html_ += attribute("alt", image.alt);
    if (!image.title.empty()) html_ += attribute("title", image.title);
    if (image.width) html_ += attribute("width", std::to_string(*image.width));
    if (image.height) html_ += attribute("height", std::to_string(*image.height));
    html_ += '>';
}

void HtmlWriter::beginStyle(Style style) { open(tagOf(style)); }
void HtmlWriter::endStyle(Style) { close(); }

void HtmlWriter::beginLink(const Link& link) {
    if (isSafeLinkTarget(link.href))
        open("a", " href=\"" + escapeHtml(link.href) + "\"");
    else
        open({});
}
void HtmlWriter::endLink(const Link&) { close(); }

void HtmlWriter::beginColour(const Colour& colour) {
    std::string attributes;
    if (colour.foreground) attributes += attribute("data-mx-color", cssColour(*colour.foreground));
    if (colour.background) attributes += attribute("data-mx-bg-color", cssColour(*colour.background));
    open(attributes.empty() ? std::string_view() : "span", attributes);
}
void HtmlWriter::endColour(const Colour&) { close(); }

void HtmlWriter::beginSpoiler(const Spoiler& spoiler) {
    open("span", spoiler.reason.empty() ? std::string(" data-mx-spoiler")
                                        : attribute("data-mx-spoiler", spoiler.reason));
}
void HtmlWriter::endSpoiler(const Spoiler&) { close(); }

void HtmlWriter::beginBlock(Block block) { open(tagOf(block)); }
void HtmlWriter::endBlock(Block) { close(); }

void HtmlWriter::beginHeading(const Heading& heading) {
    int level = heading.level < 1 ? 1 : heading.level > 6 ? 6 : heading.level;
    open("h" + std::to_string(level));
}
void HtmlWriter::endHeading(const Heading&) { close(); }

void HtmlWriter::beginQuote(const Quote&) { open("blockquote"); }
void HtmlWriter::endQuote(const Quote&) { close(); }

void HtmlWriter::beginCodeBlock(const CodeBlock& block) {
    // One level for <pre><code>: they open and close together.
    if (open_.size() >= kMaxDepth) {
        open_.emplace_back();
    } else {
        std::string language;
        for (char c : block.language)
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '+' || c == '#' || c == '.' || c == '_' || c == '-')
                language += c;
        html_ += "<pre><code";
        if (!language.empty()) html_ += attribute("class", "language-" + language);
        html_ += '>';
        open_.push_back("</code></pre>");
    }
    ++codeBlocks_;
}
void HtmlWriter::endCodeBlock(const CodeBlock&) {
    if (codeBlocks_ > 0) --codeBlocks_;
    close();
}

void HtmlWriter::beginList(const List& list) {
    if (!list.ordered)
        open("ul");
    else
        open("ol", list.start == 1 ? std::string() : attribute("start", std::to_string(list.start)));
}
void HtmlWriter::endList(const List&) { close(); }

void HtmlWriter::beginListItem(const ListItem&) { open("li"); }
void HtmlWriter::endListItem(const ListItem&) { close(); }

void HtmlWriter::pill(std::string_view userId, std::string_view displayName) {
    MatrixLink user{.kind = MatrixLinkKind::User, .id = std::string(userId), .eventId = {}, .via = {}};
    Link link{.href = matrixToUrl(user), .matrix = user};
    beginLink(link);
    text(displayName.empty() ? userId : displayName);
    endLink(link);
}

std::string HtmlWriter::finish() {
    while (!open_.empty()) close();
    codeBlocks_ = 0;
    afterSpace_ = false;
    return std::exchange(html_, {});
}

std::string sanitizeHtml(std::string_view html) {
    HtmlWriter writer;
    readHtml(html, writer);
    return writer.finish();
}

}  // namespace mxbridge::format
