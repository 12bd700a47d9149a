// mIRC formatting codes: the state machine shared by ircToHtml, stripping and line
// splitting, and the IRC-to-HTML direction. html_to_irc.cpp has the other direction.
#include "mxbridge/irc/formatting.h"

#include <array>
#include <vector>

#include "mxbridge/format/css_colour.h"
#include "mxbridge/format/html_writer.h"

namespace mxbridge::irc {

namespace {

// 0-15: the classic mIRC palette; 16-98: the extension documented at
// https://modern.ircdocs.horse/formatting#colors-16-98.
constexpr std::array<std::uint32_t, 99> kPalette = {
    0xffffff, 0x000000, 0x00007f, 0x009300, 0xff0000, 0x7f0000, 0x9c009c, 0xfc7f00, 0xffff00,
    0x00fc00, 0x009393, 0x00ffff, 0x0000fc, 0xff00ff, 0x7f7f7f, 0xd2d2d2, 0x470000, 0x472100,
    0x474700, 0x324700, 0x004700, 0x00472c, 0x004747, 0x002747, 0x000047, 0x2e0047, 0x470047,
    0x47002a, 0x740000, 0x743a00, 0x747400, 0x517400, 0x007400, 0x007449, 0x007474, 0x004074,
    0x000074, 0x4b0074, 0x740074, 0x740045, 0xb50000, 0xb56300, 0xb5b500, 0x7db500, 0x00b500,
    0x00b571, 0x00b5b5, 0x0063b5, 0x0000b5, 0x7500b5, 0xb500b5, 0xb5006b, 0xff0000, 0xff8c00,
    0xffff00, 0xb2ff00, 0x00ff00, 0x00ffa0, 0x00ffff, 0x008cff, 0x0000ff, 0xa500ff, 0xff00ff,
    0xff0098, 0xff5959, 0xffb459, 0xffff71, 0xcfff60, 0x6fff6f, 0x65ffc9, 0x6dffff, 0x59b4ff,
    0x5959ff, 0xc459ff, 0xff66ff, 0xff59bc, 0xff9c9c, 0xffd39c, 0xffff9c, 0xe2ff9c, 0x9cff9c,
    0x9cffdb, 0x9cffff, 0x9cd3ff, 0x9c9cff, 0xdc9cff, 0xff9cff, 0xff94d3, 0x000000, 0x131313,
    0x282828, 0x363636, 0x4d4d4d, 0x656565, 0x818181, 0x9f9f9f, 0xbcbcbc, 0xe2e2e2, 0xffffff,
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Up to two digits at text[pos]; returns how many were read.
std::size_t readColourNumber(std::string_view text, std::size_t pos, int& value) {
    std::size_t n = 0;
    value = 0;
    while (n < 2 && pos + n < text.size() && isDigit(text[pos + n])) {
        value = value * 10 + (text[pos + n] - '0');
        ++n;
    }
    return n;
}

bool readHexRgb(std::string_view text, std::size_t pos, std::uint32_t& rgb) {
    if (pos + 6 > text.size()) return false;
    rgb = 0;
    for (std::size_t i = 0; i < 6; ++i) {
        int v = hexValue(text[pos + i]);
        if (v < 0) return false;
        rgb = (rgb << 4) | static_cast<std::uint32_t>(v);
    }
    return true;
}

std::optional<IrcColour> paletteColour(int index) {
    auto rgb = mircColourRgb(index);
    if (!rgb) return std::nullopt;  // 99 and out-of-range numbers mean "default colour"
    return IrcColour{index, *rgb};
}

std::string twoDigits(int v) {
    return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
}

std::string hexDigits(std::uint32_t rgb) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (int shift = 20; shift >= 0; shift -= 4) out += kHex[(rgb >> shift) & 0xF];
    return out;
}

void appendOpenTags(std::string& html, const FormatState& s) {
    if (s.bold) html += "<b>";
    if (s.italic) html += "<i>";
    if (s.underline) html += "<u>";
    if (s.strikethrough) html += "<del>";
    if (s.monospace) html += "<code>";
    std::optional<IrcColour> fg = s.fg, bg = s.bg;
    if (s.reverse && (fg || bg)) std::swap(fg, bg);
    if (fg || bg) {
        html += "<font";
        if (fg) html += " data-mx-color=\"" + format::cssColour(fg->rgb) + "\"";
        if (bg) html += " data-mx-bg-color=\"" + format::cssColour(bg->rgb) + "\"";
        html += ">";
    }
}

void appendCloseTags(std::string& html, const FormatState& s) {
    if (s.fg || s.bg) html += "</font>";
    if (s.monospace) html += "</code>";
    if (s.strikethrough) html += "</del>";
    if (s.underline) html += "</u>";
    if (s.italic) html += "</i>";
    if (s.bold) html += "</b>";
}

}  // namespace

std::optional<std::uint32_t> mircColourRgb(int index) {
    if (index < 0 || index >= static_cast<int>(kPalette.size())) return std::nullopt;
    return kPalette[static_cast<std::size_t>(index)];
}

int nearestMircColour(std::uint32_t rgb) {
    for (std::size_t i = 0; i < kPalette.size(); ++i)
        if (kPalette[i] == rgb) return static_cast<int>(i);
    auto channel = [](std::uint32_t c, int shift) {
        return static_cast<long>((c >> shift) & 0xFF);
    };
    int best = 0;
    long bestDistance = -1;
    for (int i = 0; i < 16; ++i) {
        long dr = channel(rgb, 16) - channel(kPalette[i], 16);
        long dg = channel(rgb, 8) - channel(kPalette[i], 8);
        long db = channel(rgb, 0) - channel(kPalette[i], 0);
        long d = dr * dr + dg * dg + db * db;
        if (bestDistance < 0 || d < bestDistance) {
            bestDistance = d;
            best = i;
        }
    }
    return best;
}

// The Matrix HTML side is the shared reader's: one colour syntax for every bridge.
std::optional<std::uint32_t> parseHtmlColour(std::string_view text) {
    return format::parseCssColour(text);
}

std::string FormatState::toIrcCodes() const {
    std::string out;
    if (fg || bg) {
        // Both colours go in one code. A background needs a foreground; 99 means default.
        bool hex = (fg && fg->index < 0) || (bg && bg->index < 0);
        if (hex) {
            out += kHexColour;
            out += fg ? hexDigits(fg->rgb) : std::string("000000");
            if (bg) out += "," + hexDigits(bg->rgb);
        } else {
            out += kColour;
            out += fg ? twoDigits(fg->index) : std::string("99");
            if (bg) out += "," + twoDigits(bg->index);
        }
    }
    if (bold) out += kBold;
    if (italic) out += kItalic;
    if (underline) out += kUnderline;
    if (strikethrough) out += kStrikethrough;
    if (monospace) out += kMonospace;
    if (reverse) out += kReverse;
    if ((fg || bg) && hexValue(out.back()) >= 0) {
        out += kBold;
        out += kBold;
    }
    return out;
}

std::size_t applyFormatCode(std::string_view text, std::size_t pos, FormatState& s) {
    if (pos >= text.size()) return 0;
    switch (text[pos]) {
        case kBold:
            s.bold = !s.bold;
            return 1;
        case kItalic:
            s.italic = !s.italic;
            return 1;
        case kUnderline:
            s.underline = !s.underline;
            return 1;
        case kStrikethrough:
            s.strikethrough = !s.strikethrough;
            return 1;
        case kMonospace:
            s.monospace = !s.monospace;
            return 1;
        case kReverse:
            s.reverse = !s.reverse;
            return 1;
        case kReset:
            s = FormatState{};
            return 1;
        case kColour: {
            std::size_t i = pos + 1;
            int fgIndex = 0;
            std::size_t n = readColourNumber(text, i, fgIndex);
            if (n == 0) {
                s.fg.reset();
                s.bg.reset();
                return 1;
            }
            i += n;
            s.fg = paletteColour(fgIndex);
            // The comma belongs to the code only when a digit follows it.
            if (i + 1 < text.size() && text[i] == ',' && isDigit(text[i + 1])) {
                int bgIndex = 0;
                i += 1 + readColourNumber(text, i + 1, bgIndex);
                s.bg = paletteColour(bgIndex);
            }
            return i - pos;
        }
        case kHexColour: {
            std::size_t i = pos + 1;
            std::uint32_t rgb = 0;
            if (!readHexRgb(text, i, rgb)) {
                s.fg.reset();
                s.bg.reset();
                return 1;
            }
            i += 6;
            s.fg = IrcColour{-1, rgb};
            if (i < text.size() && text[i] == ',' && readHexRgb(text, i + 1, rgb)) {
                s.bg = IrcColour{-1, rgb};
                i += 7;
            }
            return i - pos;
        }
        default:
            return 0;
    }
}

std::string escapeHtml(std::string_view text) { return format::escapeHtml(text); }

std::string ircStripFormatting(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    FormatState scratch;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = applyFormatCode(text, i, scratch);
        if (n == 0)
            out += text[i++];
        else
            i += n;
    }
    return out;
}

FormattedText ircToHtml(std::string_view text) {
    struct Run {
        FormatState state;
        std::string text;
    };
    std::vector<Run> runs;
    FormatState state;
    FormattedText result;
    bool anyFormatting = false;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = applyFormatCode(text, i, state);
        if (n > 0) {
            i += n;
            continue;
        }
        if (!state.isPlain()) anyFormatting = true;
        if (runs.empty() || !(runs.back().state == state)) runs.push_back(Run{state, {}});
        runs.back().text += text[i];
        result.plain += text[i];
        ++i;
    }
    if (!anyFormatting) return result;
    // Each run is opened and closed on its own, so tags are always properly nested
    // whatever order the codes were toggled in.
    for (const auto& run : runs) {
        appendOpenTags(result.html, run.state);
        result.html += escapeHtml(run.text);
        appendCloseTags(result.html, run.state);
    }
    return result;
}

}  // namespace mxbridge::irc
