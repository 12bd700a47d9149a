// Nick checks and the Matrix-name-to-nick transformation.
#include "mxbridge/irc/nick.h"

#include <algorithm>

#include "mxbridge/irc/text_encoding.h"

namespace mxbridge::irc {

namespace {

bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isSpecial(char c) {
    return c == '[' || c == ']' || c == '\\' || c == '`' || c == '_' || c == '^' || c == '{' ||
           c == '|' || c == '}';
}
bool isNickChar(char c) { return isLetter(c) || isDigit(c) || isSpecial(c) || c == '-'; }

// U+00C0..U+00FF without accents; '_' for the two symbols (U+00D7, U+00F7) in the range.
constexpr char kLatin1Fold[] = "AAAAAAACEEEEIIIIDNOOOOO_OUUUUYTsaaaaaaaceeeeiiiidnooooo_ouuuuyty";

// Each character of `text` as nick characters; `replaced` runs of '_' are collapsed.
std::string toNickChars(std::string_view text) {
    std::string out;
    bool lastReplaced = false;
    auto replace = [&] {
        if (!lastReplaced) out += '_';
        lastReplaced = true;
    };
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = validUtf8SequenceLength(text, i);
        if (n == 0) {
            ++i;
            continue;
        }
        if (n == 1) {
            char c = text[i];
            if (isNickChar(c)) {
                out += c;
                lastReplaced = false;
            } else if (static_cast<unsigned char>(c) > 0x20 || c == ' ' || c == '\t') {
                replace();
            }
        } else if (n == 2) {
            unsigned cp = ((static_cast<unsigned char>(text[i]) & 0x1F) << 6) |
                          (static_cast<unsigned char>(text[i + 1]) & 0x3F);
            if (cp >= 0xC0 && cp <= 0xFF) {
                char folded = kLatin1Fold[cp - 0xC0];
                if (folded == '_') {
                    replace();
                } else {
                    out += folded;
                    lastReplaced = false;
                }
            }
        }
        i += n;
    }
    return out;
}

}  // namespace

bool isValidNick(std::string_view nick, std::size_t maxLen) {
    if (nick.empty() || (maxLen > 0 && nick.size() > maxLen)) return false;
    if (!isLetter(nick.front()) && !isSpecial(nick.front())) return false;
    for (char c : nick)
        if (!isNickChar(c)) return false;
    return true;
}

std::string sanitizeNick(std::string_view name, std::size_t maxLen, std::string_view nickTemplate) {
    if (maxLen == 0) maxLen = 1;
    std::string core = toNickChars(name);
    // A leading or trailing '_' that came from punctuation ("@alice:" -> "_alice_") is noise.
    while (core.size() > 1 && core.front() == '_' && !name.empty() && name.front() != '_')
        core.erase(0, 1);
    while (core.size() > 1 && core.back() == '_' && !name.empty() && name.back() != '_')
        core.pop_back();
    if (core.empty() || core == "_") core = "user";

    std::size_t slot = nickTemplate.find("{name}");
    std::string before =
        slot == std::string_view::npos ? std::string() : toNickChars(nickTemplate.substr(0, slot));
    std::string after =
        toNickChars(slot == std::string_view::npos ? nickTemplate : nickTemplate.substr(slot + 6));
    auto fixHead = [](std::string& s) {
        if (!s.empty() && !isLetter(s.front()) && !isSpecial(s.front())) s.insert(0, 1, '_');
    };
    fixHead(before.empty() ? core : before);
    if (before.size() + after.size() + 1 > maxLen) {
        before.clear();
        after.clear();
        fixHead(core);
    }
    core.resize(std::min(core.size(), maxLen - before.size() - after.size()));
    return before + core + after;
}

}  // namespace mxbridge::irc
