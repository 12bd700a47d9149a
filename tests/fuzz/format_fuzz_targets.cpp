// Properties checked by the Matrix HTML fuzzer. A violation aborts, which both libFuzzer and
// the replay driver report as a failure; the input is saved first so it can be replayed.
#include "format_fuzz_targets.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "mxbridge/format/html_reader.h"
#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/matrix_link.h"
#include "mxbridge/format/mentions.h"
#include "mxbridge/format/reply_fallback.h"
#include "mxbridge/format/utf8.h"

namespace mxbridge::format::fuzz {

using mxbridge::fuzz::beginInput;

namespace {

// Checks that begins and ends pair up, innermost first, and that nesting stays bounded.
class NestingChecker : public HtmlVisitor {
public:
    void beginStyle(Style s) override { push("style" + std::to_string(static_cast<int>(s))); }
    void endStyle(Style s) override { pop("style" + std::to_string(static_cast<int>(s))); }
    void beginLink(const Link& l) override {
        MXBRIDGE_FUZZ_CHECK(!l.href.empty());
        MXBRIDGE_FUZZ_CHECK(std::none_of(l.href.begin(), l.href.end(),
                                         [](char c) { return static_cast<unsigned char>(c) <= 0x20; }));
        push("link");
    }
    void endLink(const Link&) override { pop("link"); }
    void beginColour(const Colour& c) override {
        MXBRIDGE_FUZZ_CHECK(c.foreground || c.background);
        push("colour");
    }
    void endColour(const Colour&) override { pop("colour"); }
    void beginSpoiler(const Spoiler&) override { push("spoiler"); }
    void endSpoiler(const Spoiler&) override { pop("spoiler"); }
    void beginBlock(Block b) override { push("block" + std::to_string(static_cast<int>(b))); }
    void endBlock(Block b) override { pop("block" + std::to_string(static_cast<int>(b))); }
    void beginHeading(const Heading& h) override {
        MXBRIDGE_FUZZ_CHECK(h.level >= 1 && h.level <= 6);
        push("heading");
    }
    void endHeading(const Heading&) override { pop("heading"); }
    void beginQuote(const Quote&) override { push("quote"); }
    void endQuote(const Quote&) override { pop("quote"); }
    void beginCodeBlock(const CodeBlock&) override { push("pre"); }
    void endCodeBlock(const CodeBlock&) override { pop("pre"); }
    void beginList(const List&) override { push("list"); }
    void endList(const List&) override { pop("list"); }
    void beginListItem(const ListItem&) override { push("item"); }
    void endListItem(const ListItem&) override { pop("item"); }

    bool balanced() const { return open_.empty(); }

private:
    void push(std::string kind) {
        open_.push_back(std::move(kind));
        MXBRIDGE_FUZZ_CHECK(open_.size() <= 2 * 100);  // a span may report spoiler and colour
    }
    void pop(const std::string& kind) {
        MXBRIDGE_FUZZ_CHECK(!open_.empty() && open_.back() == kind);
        open_.pop_back();
    }
    std::vector<std::string> open_;
};

bool isAllowedTag(std::string_view name) {
    static constexpr std::string_view kAllowed[] = {
        "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub", "li",
        "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table", "thead", "tbody", "tr",
        "th", "td", "caption", "pre", "span", "img", "details", "summary"};
    return std::find(std::begin(kAllowed), std::end(kAllowed), name) != std::end(kAllowed);
}

bool isAllowedAttribute(std::string_view tag, std::string_view key) {
    if (tag == "span") return key == "data-mx-color" || key == "data-mx-bg-color" || key == "data-mx-spoiler";
    if (tag == "a") return key == "href";
    if (tag == "img")
        return key == "src" || key == "alt" || key == "title" || key == "width" || key == "height" ||
               key == "data-mx-emoticon";
    if (tag == "ol") return key == "start";
    if (tag == "code") return key == "class";
    return false;
}

// Reads the writer's output strictly: every '<' opens an allowed tag whose attributes are
// allowed and double-quoted with nothing unescaped inside; no '>' or '"' stands in text.
void checkSafeHtml(std::string_view html) {
    std::size_t i = 0;
    while (i < html.size()) {
        char c = html[i];
        MXBRIDGE_FUZZ_CHECK(c != '>' && c != '"' && c != '\'');
        if (c != '<') {
            ++i;
            continue;
        }
        ++i;
        if (i < html.size() && html[i] == '/') ++i;
        std::size_t start = i;
        while (i < html.size() && ((html[i] >= 'a' && html[i] <= 'z') || (html[i] >= '0' && html[i] <= '9'))) ++i;
        std::string_view tag = html.substr(start, i - start);
        MXBRIDGE_FUZZ_CHECK(isAllowedTag(tag));
        while (i < html.size() && html[i] == ' ') {
            ++i;
            std::size_t keyStart = i;
            while (i < html.size() && ((html[i] >= 'a' && html[i] <= 'z') || html[i] == '-')) ++i;
            std::string_view key = html.substr(keyStart, i - keyStart);
            MXBRIDGE_FUZZ_CHECK(isAllowedAttribute(tag, key));
            if (i < html.size() && html[i] == '=') {
                MXBRIDGE_FUZZ_CHECK(i + 1 < html.size() && html[i + 1] == '"');
                std::size_t end = html.find('"', i + 2);
                MXBRIDGE_FUZZ_CHECK(end != std::string_view::npos);
                std::string_view value = html.substr(i + 2, end - i - 2);
                MXBRIDGE_FUZZ_CHECK(value.find_first_of("<>'") == std::string_view::npos);
                if (key == "href") MXBRIDGE_FUZZ_CHECK(isSafeLinkTarget(value));
                if (key == "src") MXBRIDGE_FUZZ_CHECK(value.substr(0, 6) == "mxc://");
                i = end + 1;
            }
        }
        MXBRIDGE_FUZZ_CHECK(i < html.size() && html[i] == '>');
        ++i;
    }
}

void checkMatrixLink(std::string_view href) {
    auto link = parseMatrixLink(href);
    if (!link) return;
    MXBRIDGE_FUZZ_CHECK(link->id.size() >= 2);
    auto back = parseMatrixLink(matrixToUrl(*link));
    MXBRIDGE_FUZZ_CHECK(back && *back == *link);
}

}  // namespace

void fuzzMatrixHtml(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("matrix_html", input);

    NestingChecker nesting;
    readHtml(input, nesting);
    MXBRIDGE_FUZZ_CHECK(nesting.balanced());

    std::string clean = sanitizeHtml(input);
    checkSafeHtml(clean);
    MXBRIDGE_FUZZ_CHECK(clean.size() <= 8 * size + 64);
    MXBRIDGE_FUZZ_CHECK(!isValidUtf8(input) || isValidUtf8(clean));
    MXBRIDGE_FUZZ_CHECK(sanitizeHtml(clean) == clean);

    std::string pillsNamed = replacePills(input, [](const std::string& user) -> std::optional<std::string> {
        if (user.size() % 2 == 0) return std::nullopt;
        return user;  // a name with whatever a user id may hold
    });
    checkSafeHtml(pillsNamed);
    std::string linked = linkNames(input, [](std::string_view text) {
        std::vector<NameMatch> found;
        for (std::size_t p = text.find('@'); p != std::string_view::npos; p = text.find('@', p + 1))
            found.push_back({.offset = p, .length = std::min<std::size_t>(3, text.size() - p), .userId = "@a:b"});
        return found;
    });
    checkSafeHtml(linked);
    std::string json = mentionsInHtml(input).toJson();
    MXBRIDGE_FUZZ_CHECK(std::none_of(json.begin(), json.end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20; }));

    std::string html = stripHtmlReplyFallback(input);
    MXBRIDGE_FUZZ_CHECK(html.size() <= size && input.substr(size - html.size()) == html);
    std::string body = stripPlainReplyFallback(input);
    MXBRIDGE_FUZZ_CHECK(!body.empty() || input.empty());
    MXBRIDGE_FUZZ_CHECK(body.size() <= size && input.substr(size - body.size()) == body);

    checkMatrixLink(input);
    if (size > 20) checkMatrixLink("https://matrix.to/#/" + std::string(input.substr(20)));
}

}  // namespace mxbridge::format::fuzz
