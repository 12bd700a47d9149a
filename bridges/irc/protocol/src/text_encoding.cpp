// UTF-8 validation and the latin-1/CP1252 fallback for text read from IRC.
#include "mxbridge/irc/text_encoding.h"

#include "mxbridge/format/utf8.h"

namespace mxbridge::irc {

namespace {

// CP1252's assignments for 0x80-0x9F; the five holes keep their latin-1 (C1) meaning.
constexpr char32_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

}  // namespace

// The UTF-8 primitives are the format library's, shared with every bridge.
void appendUtf8(std::string& out, char32_t cp) { format::appendUtf8(out, cp); }

std::size_t validUtf8SequenceLength(std::string_view s, std::size_t pos) {
    return format::validUtf8SequenceLength(s, pos);
}

bool isValidUtf8(std::string_view s) { return format::isValidUtf8(s); }

std::string decodeIrcText(std::string_view bytes) {
    if (isValidUtf8(bytes)) return std::string(bytes);
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        auto b = static_cast<unsigned char>(c);
        if (b < 0x80)
            out += c;
        else if (b < 0xA0)
            appendUtf8(out, kCp1252High[b - 0x80]);
        else
            appendUtf8(out, b);
    }
    return out;
}

std::string sanitizeUtf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = validUtf8SequenceLength(s, i);
        if (n == 0) {
            appendUtf8(out, 0xFFFD);
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace mxbridge::irc
