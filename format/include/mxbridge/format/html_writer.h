// Writes `formatted_body` HTML that is safe to send: only the spec's allowed tags and
// attributes, text and attribute values escaped so nothing can open a tag or leave a quote,
// links only with the spec's schemes, images only from mxc://.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/format/html_visitor.h"

namespace mxbridge::format {

// Build a message by calling the visitor methods (begin/end pairs nest; end closes the latest
// begin still open), or pass the writer to readHtml to clean up HTML from elsewhere; take the
// result with finish(), which closes whatever is still open.
//
// Text outside a code block has '\n' written as <br>, and spaces in a row (across tags too)
// as one, as HTML shows them. A link whose scheme is not http,
// https, ftp, mailto, magnet (the spec's list) or matrix (Matrix URIs, for pills) is written
// as its text alone, as is one longer than 8 KiB; an image that is not mxc:// as its alt
// text; other attribute values are cut at 2 KiB. Nesting past 100 levels (the spec's limit)
// writes the content without the extra tags.
class HtmlWriter : public HtmlVisitor {
public:
    void text(std::string_view text) override;
    void lineBreak() override;
    void horizontalRule() override;
    void image(const Image& image) override;

    void beginStyle(Style style) override;
    void endStyle(Style style) override;
    void beginLink(const Link& link) override;
    void endLink(const Link& link) override;
    void beginColour(const Colour& colour) override;
    void endColour(const Colour& colour) override;
    void beginSpoiler(const Spoiler& spoiler) override;
    void endSpoiler(const Spoiler& spoiler) override;

    void beginBlock(Block block) override;
    void endBlock(Block block) override;
    void beginHeading(const Heading& heading) override;
    void endHeading(const Heading& heading) override;
    void beginQuote(const Quote& quote) override;
    void endQuote(const Quote& quote) override;
    void beginCodeBlock(const CodeBlock& block) override;
    void endCodeBlock(const CodeBlock& block) override;
    void beginList(const List& list) override;
    void endList(const List& list) override;
    void beginListItem(const ListItem& item) override;
    void endListItem(const ListItem& item) override;

    // A user pill (see userPillHtml), as one call.
    void pill(std::string_view userId, std::string_view displayName);

    // The HTML so far with every open element closed; the writer is empty afterwards.
    std::string finish();

private:
    // Opens `tag` (with its attributes already escaped); an empty tag is a level that writes
    // nothing, so its end still pairs up.
    void open(std::string_view tag, std::string_view attributes = {});
    void close();

    std::string html_;
    std::vector<std::string> open_;  // the closing tags to write, innermost last
    int codeBlocks_ = 0;
    bool afterSpace_ = false;  // the last text written was a space outside a code block
};

// `html` as the reader understands it, written back by HtmlWriter: what to send when HTML
// comes from a network that allows more than Matrix does, or from a hostile peer.
std::string sanitizeHtml(std::string_view html);

// Escapes & < > " and ' for HTML text and attribute values.
std::string escapeHtml(std::string_view text);

// Whether a link to `href` may be sent (see HtmlWriter).
bool isSafeLinkTarget(std::string_view href);

}  // namespace mxbridge::format
