// mIRC formatting codes (https://modern.ircdocs.horse/formatting) to Matrix HTML and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::irc {

inline constexpr char kBold = '\x02';
inline constexpr char kColour = '\x03';
inline constexpr char kHexColour = '\x04';
inline constexpr char kReset = '\x0F';
inline constexpr char kMonospace = '\x11';
inline constexpr char kReverse = '\x16';
inline constexpr char kItalic = '\x1D';
inline constexpr char kStrikethrough = '\x1E';
inline constexpr char kUnderline = '\x1F';

// One colour as IRC sent it: a palette index (0-98) or a \x04 hex value.
struct IrcColour {
    int index = -1;  // -1 for a hex colour
    std::uint32_t rgb = 0;

    bool operator==(const IrcColour&) const = default;
};

// The formatting in effect at a point of a line.
struct FormatState {
    bool bold = false;
    bool italic = false;
    bool underline = false;
    bool strikethrough = false;
    bool monospace = false;
    bool reverse = false;
    std::optional<IrcColour> fg;
    std::optional<IrcColour> bg;

    bool operator==(const FormatState&) const = default;
    bool isPlain() const { return *this == FormatState{}; }
    // Codes that bring a fresh line (all formatting off) to this state. When it ends in a
    // colour code, a bold toggle pair follows, so text starting with a digit or ',' that is
    // put after it cannot be read as part of the colour.
    std::string toIrcCodes() const;
};

// If text[pos] starts a formatting code, applies it to `state` and returns its length in
// bytes (a colour code includes its digits); returns 0 for anything else. Truncated codes
// ("\x03" at the end, "\x0399," where the comma is text) are handled like mIRC does.
std::size_t applyFormatCode(std::string_view text, std::size_t pos, FormatState& state);

struct FormattedText {
    std::string plain;
    // Matrix `formatted_body` (org.matrix.custom.html); empty when the line had no formatting.
    std::string html;
};

// IRC text (already UTF-8) to a Matrix body. Colours become
// <font data-mx-color="#rrggbb" data-mx-bg-color="#rrggbb">; reverse swaps the colours when
// there are any (with none we don't know the reader's theme, so it is dropped).
FormattedText ircToHtml(std::string_view text);

std::string ircStripFormatting(std::string_view text);

// Matrix HTML to IRC text with formatting codes; lines separated by '\n' (split them with
// splitForIrc). Tolerant of any input: unknown tags are dropped keeping their text,
// <mx-reply> is dropped with its content (the connector handles replies), entities are
// decoded, and links become "text (url)" unless the text is the url. The HTML is read by
// mxbridge::format::readHtml, the reader every bridge shares; this is its mIRC writer.
std::string htmlToIrc(std::string_view html);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string escapeHtml(std::string_view text);

// 0xRRGGBB for palette index 0-98; nullopt for 99 (default) and anything else.
std::optional<std::uint32_t> mircColourRgb(int index);
// The palette index for an exact match in 0-98, else the nearest of 0-15: those are the
// colours every client shows, while 16-98 are a later extension many render as default.
int nearestMircColour(std::uint32_t rgb);
// "#rgb" or "#rrggbb" (case-insensitive, '#' optional) to 0xRRGGBB.
std::optional<std::uint32_t> parseHtmlColour(std::string_view text);

}  // namespace mxbridge::irc
