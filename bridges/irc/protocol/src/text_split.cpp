// Splitting long Matrix messages into IRC lines without breaking characters or codes.
#include "mxbridge/irc/text_split.h"

#include <algorithm>

#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/text_encoding.h"

namespace mxbridge::irc {

namespace {

// The longest formatting code (\x04RRGGBB,RRGGBB) is 14 bytes and a character at most 4, so
// a piece with this much room always makes progress.
constexpr std::size_t kMinRoom = 14;

bool hasVisibleText(std::string_view piece) {
    std::string plain = ircStripFormatting(piece);
    return plain.find_first_not_of(" \t") != std::string::npos;
}

void splitLine(std::string_view line, std::size_t budget, FormatState& carry,
               std::vector<std::string>& out) {
    std::size_t pos = 0;
    while (pos < line.size()) {
        std::string prefix = carry.toIrcCodes();
        if (prefix.size() + kMinRoom > budget)
            prefix.clear();  // formatting is lost rather than the size limit broken
        std::size_t room = budget - prefix.size();

        // Walk as far as fits, remembering the last space and the last safe boundary with
        // the formatting in effect at each.
        FormatState state = carry;
        std::size_t i = pos;
        std::size_t lastSpace = std::string_view::npos;
        FormatState stateAtSpace;
        while (i < line.size()) {
            FormatState next = state;
            std::size_t n = applyFormatCode(line, i, next);
            bool isCode = n > 0;
            if (!isCode) {
                n = validUtf8SequenceLength(line, i);
                if (n == 0) n = 1;  // a stray byte is cut like a character of its own
            }
            if (i + n - pos > room) break;
            if (!isCode && line[i] == ' ' && i > pos) {
                lastSpace = i;
                stateAtSpace = state;
            }
            state = next;
            i += n;
        }

        std::size_t cut = i;
        std::size_t resume = i;
        FormatState stateAtCut = state;
        if (i < line.size() && lastSpace != std::string_view::npos) {
            cut = lastSpace;
            resume = lastSpace + 1;
            stateAtCut = stateAtSpace;
        }
        std::string_view body = line.substr(pos, cut - pos);
        if (hasVisibleText(body)) out.push_back(prefix + std::string(body));
        carry = stateAtCut;
        pos = resume;
    }
}

}  // namespace

std::vector<std::string> splitForIrc(std::string_view text, std::size_t maxBytes) {
    std::size_t budget = std::max(maxBytes, kMinSplitBytes);
    std::vector<std::string> out;
    FormatState carry;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        std::string_view raw =
            text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        std::string line;
        line.reserve(raw.size());
        for (char c : raw)
            if (c != '\r' && c != '\0') line += c;
        splitLine(line, budget, carry, out);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return out;
}

std::size_t maxPayloadBytes(std::size_t targetLen, std::size_t prefixLen, bool ctcpAction) {
    // nick (30 on most networks) + '!' + user (10) + '@' + host (63, a DNS label limit).
    constexpr std::size_t kAssumedPrefixLen = 30 + 1 + 10 + 1 + 63;
    // Cloaks and vhosts can change our host after we measured it.
    constexpr std::size_t kSafetyMargin = 10;
    constexpr std::size_t kCommandLen = 7;  // "PRIVMSG", the longer of PRIVMSG and NOTICE
    std::size_t prefix = prefixLen == 0 ? kAssumedPrefixLen : prefixLen;
    std::size_t overhead = 2 /* CR LF */ + 1 + prefix + 1 /* ":prefix " */ + kCommandLen + 1 +
                           targetLen + 2 /* " :" */ + kSafetyMargin + (ctcpAction ? 9 : 0);
    if (overhead + kMinSplitBytes >= 512) return kMinSplitBytes;
    return 512 - overhead;
}

}  // namespace mxbridge::irc
