// What the Matrix HTML reader reports: the elements of the `formatted_body` subset
// (m.room.message, org.matrix.custom.html) as typed values, and the visitor that receives
// them. A bridge writes one visitor per output format (mIRC codes, XMPP XHTML, Slack mrkdwn).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/format/matrix_link.h"

namespace mxbridge::format {

// Inline styles. Each comes from several tags: Bold from <b> and <strong>, Italic from <i>
// and <em>, Underline from <u> and <ins>, Strikethrough from <del>, <s> and <strike>.
enum class Style { Bold, Italic, Underline, Strikethrough, Code, Superscript, Subscript };

// Containers that start on a line of their own and have no further meaning to most writers.
enum class Block {
    Paragraph,  // <p>
    Division,   // <div>
    Table,
    TableHead,
    TableBody,
    TableRow,
    TableHeaderCell,
    TableCell,
    Caption,
    Details,
    Summary,
};

struct Link {
    // The decoded href with ASCII controls and spaces removed (a URL never holds them raw,
    // and a writer must not pass a line break on). Never empty: <a> without one is not a link.
    std::string href;
    // Set when the href is a matrix.to or matrix: link to a user, room or event (a pill).
    std::optional<MatrixLink> matrix;
};

// <span>/<font> colours: data-mx-color (or the older `color`), data-mx-bg-color. At least
// one is set.
struct Colour {
    std::optional<std::uint32_t> foreground;  // 0xRRGGBB
    std::optional<std::uint32_t> background;
};

struct Spoiler {
    std::string reason;  // data-mx-spoiler's value; empty when none was given
};

struct Heading {
    int level = 1;  // 1-6
};

struct Quote {};

// <pre>, with the language of the <code class="language-..."> directly inside it. That
// <code> is part of the block: it is not reported again as Style::Code.
struct CodeBlock {
    std::string language;  // letters, digits and "+#._-" only; empty when none
};

struct List {
    bool ordered = false;
    long start = 1;  // <ol start="N">
    int depth = 1;   // 1 for a list not inside another list
};

struct ListItem {
    bool ordered = false;  // the innermost list's kind; false for an <li> outside any list
    long number = 1;       // its position in an ordered list, counted from `start`
    int depth = 0;         // lists open around it: 0 for an <li> outside any list
};

// <img>: custom emoji and inline images. `src` is whatever the sender put there; a writer
// shows only mxc:// ones (the HTML writer refuses others).
struct Image {
    std::string src;
    std::string alt;
    std::string title;
    std::optional<int> width;
    std::optional<int> height;
    bool emoticon = false;  // data-mx-emoticon: a custom emote (spec: "Image packs")
};

// Receives a document in order. Calls nest: every begin is matched by the end of the same
// kind with the same value, innermost first, and the reader closes whatever the HTML left
// open. Outside a CodeBlock, text has each run of whitespace turned into one space (HTML
// collapses it; a writer drops the spaces it finds at a line start); inside one, text is
// verbatim with line ends as '\n'. Text is the sender's bytes with entities decoded.
// Override what you render; everything else is ignored.
class HtmlVisitor {
public:
    virtual ~HtmlVisitor() = default;

    virtual void text(std::string_view) {}
    virtual void lineBreak() {}       // <br>, and a stray </p> or </br>
    virtual void horizontalRule() {}  // <hr>
    virtual void image(const Image&) {}

    virtual void beginStyle(Style) {}
    virtual void endStyle(Style) {}
    virtual void beginLink(const Link&) {}
    virtual void endLink(const Link&) {}
    virtual void beginColour(const Colour&) {}
    virtual void endColour(const Colour&) {}
    virtual void beginSpoiler(const Spoiler&) {}
    virtual void endSpoiler(const Spoiler&) {}

    virtual void beginBlock(Block) {}
    virtual void endBlock(Block) {}
    virtual void beginHeading(const Heading&) {}
    virtual void endHeading(const Heading&) {}
    virtual void beginQuote(const Quote&) {}
    virtual void endQuote(const Quote&) {}
    virtual void beginCodeBlock(const CodeBlock&) {}
    virtual void endCodeBlock(const CodeBlock&) {}
    virtual void beginList(const List&) {}
    virtual void endList(const List&) {}
    virtual void beginListItem(const ListItem&) {}
    virtual void endListItem(const ListItem&) {}
};

}  // namespace mxbridge::format
