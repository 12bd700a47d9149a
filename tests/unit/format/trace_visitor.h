// A visitor that writes down every call it gets, so a test reads what the reader reported.
#pragma once

#include <string>

#include "mxbridge/format/html_reader.h"

namespace mxbridge::format::test {

// Text as "text", elements as <Name ...> and </Name>.
class TraceVisitor : public HtmlVisitor {
public:
    std::string trace;

    void text(std::string_view t) override { trace += "\"" + std::string(t) + "\""; }
    void lineBreak() override { trace += "<br>"; }
    void horizontalRule() override { trace += "<hr>"; }
    void image(const Image& i) override {
        trace += "<img " + i.src + " alt=" + i.alt + (i.emoticon ? " emoticon" : "") + ">";
    }
    void beginStyle(Style s) override { trace += "<" + name(s) + ">"; }
    void endStyle(Style s) override { trace += "</" + name(s) + ">"; }
    void beginLink(const Link& l) override {
        trace += "<a " + l.href;
        if (l.matrix) trace += " pill=" + l.matrix->id + l.matrix->eventId;
        trace += ">";
    }
    void endLink(const Link&) override { trace += "</a>"; }
    void beginColour(const Colour& c) override {
        trace += "<colour";
        if (c.foreground) trace += " fg=" + std::to_string(*c.foreground);
        if (c.background) trace += " bg=" + std::to_string(*c.background);
        trace += ">";
    }
    void endColour(const Colour&) override { trace += "</colour>"; }
    void beginSpoiler(const Spoiler& s) override { trace += "<spoiler " + s.reason + ">"; }
    void endSpoiler(const Spoiler&) override { trace += "</spoiler>"; }
    void beginBlock(Block b) override { trace += "<block" + std::to_string(static_cast<int>(b)) + ">"; }
    void endBlock(Block b) override { trace += "</block" + std::to_string(static_cast<int>(b)) + ">"; }
    void beginHeading(const Heading& h) override { trace += "<h" + std::to_string(h.level) + ">"; }
    void endHeading(const Heading& h) override { trace += "</h" + std::to_string(h.level) + ">"; }
    void beginQuote(const Quote&) override { trace += "<quote>"; }
    void endQuote(const Quote&) override { trace += "</quote>"; }
    void beginCodeBlock(const CodeBlock& c) override { trace += "<pre " + c.language + ">"; }
    void endCodeBlock(const CodeBlock&) override { trace += "</pre>"; }
    void beginList(const List& l) override {
        trace += std::string(l.ordered ? "<ol " : "<ul ") + std::to_string(l.start) + " d" +
                 std::to_string(l.depth) + ">";
    }
    void endList(const List& l) override { trace += l.ordered ? "</ol>" : "</ul>"; }
    void beginListItem(const ListItem& i) override {
        trace += "<li " + std::string(i.ordered ? "#" : "*") + std::to_string(i.number) + " d" +
                 std::to_string(i.depth) + ">";
    }
    void endListItem(const ListItem&) override { trace += "</li>"; }

private:
    static std::string name(Style s) {
        // In the order of enum Style.
        static constexpr const char* kNames[] = {"b", "i", "u", "s", "code", "sup", "sub"};
        return kNames[static_cast<int>(s)];
    }
};

inline std::string traceOf(std::string_view html, const HtmlReaderOptions& options = {}) {
    TraceVisitor v;
    readHtml(html, v, options);
    return v.trace;
}

}  // namespace mxbridge::format::test
