// Message styling (XEP-0393): the light markup XMPP clients show in plain bodies, read into
// Matrix HTML and written from it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::xmpp {

// A body's styling as Matrix HTML (formatted_body): *strong*, _emphasis_, ~strike~, `pre`
// spans, ``` preformatted blocks and > quotations, by the XEP's rules (spans stay inside their
// line and need text between their directives; an opening directive starts a line or follows
// whitespace or another opening directive and is not followed by whitespace; the closing one
// is not preceded by whitespace; matching is lazy). The directives stay in the text, styled
// like it, as the XEP recommends. Nullopt when nothing in the body is styled: send it plain.
std::optional<std::string> stylingToHtml(std::string_view body);

// A Matrix formatted_body as a styled body for XMPP clients: bold and headings *…*, italic
// _…_, strike-through ~…~, inline code `…`, code blocks between ``` lines, quotes as "> "
// lines, list items with markers, links as "text (url)", pills as the names they show.
std::string htmlToStyling(std::string_view html);

}  // namespace mxbridge::xmpp
