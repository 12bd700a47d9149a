// One tolerant reader of the Matrix HTML subset, for every bridge. Not a browser: a forgiving
// walk over tags and text that reports what the spec's allowed tags mean to a visitor.
#pragma once

#include <cstddef>
#include <string_view>

#include "mxbridge/format/html_visitor.h"

namespace mxbridge::format {

struct HtmlReaderOptions {
    // Elements open at once. The spec says "must not be nested more than 100 levels deep";
    // tags past the limit are ignored (their text is kept), so work and output stay linear.
    std::size_t maxDepth = 100;
};

// Reads `html` and reports it to `visitor`. Never fails: unknown tags are dropped keeping
// their text; unclosed ones are closed at the end and misnested ones when an outer element
// closes (as browsers do for formatting); a '<' that starts no tag, and an unknown entity,
// are text; attribute values may be unquoted; comments and <!DOCTYPE> vanish; <script>,
// <style> and <mx-reply> (a reply fallback, which the spec says to strip) are dropped with
// their content. Named entities are the common ones (&amp; &nbsp; &hellip; ...), numeric
// ones any code point; control characters other than tab and line feed that arrive as
// entities are dropped, NUL and invalid code points become U+FFFD. Bytes are passed on as
// they are (invalid UTF-8 stays invalid).
void readHtml(std::string_view html, HtmlVisitor& visitor, const HtmlReaderOptions& options = {});

}  // namespace mxbridge::format
