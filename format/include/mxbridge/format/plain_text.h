// Matrix HTML as text for networks that show plain text with a light markup of their own
// (XMPP's message styling, Slack's mrkdwn...): one line per block, "> " before quoted lines,
// list markers, headings on lines of their own, "text (url)" for links whose text is not the
// url, pills as the names they show. Only how styles and code blocks are marked differs
// from network to network, and the caller says it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "mxbridge/format/html_visitor.h"

namespace mxbridge::format {

struct PlainTextMarkup {
    // What opens and closes a style ("*" for bold...); empty or unset: the style is dropped.
    // Identical styles nested in each other are marked once, at the outermost.
    std::function<std::string(Style)> style;
    // The line before a code block's first line and the line after its last ("```"); unset:
    // the block's lines stand alone. `opening` tells which; the block gives its language.
    std::function<std::string(const CodeBlock&, bool opening)> codeFence;
    // What heads a quoted line, once per level of quoting (at most 5).
    std::string quotePrefix = "> ";
};

// Never fails (the reader is tolerant); blank lines at both ends and spaces at line ends are
// dropped, a no-break space is a space. A closing marker is written before the spaces that
// precede it ("*bold* text", not "*bold *text"), since markups like XEP-0393 refuse a
// closing directive after a space.
std::string htmlToPlainText(std::string_view html, const PlainTextMarkup& markup);

}  // namespace mxbridge::format
