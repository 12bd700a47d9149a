// Case folding under the three CASEMAPPING values servers announce.
#include "mxbridge/irc/casemapping.h"

namespace mxbridge::irc {

std::optional<CaseMapping> parseCaseMapping(std::string_view name) {
    if (name == "ascii" || name == "rfc7613") return CaseMapping::Ascii;
    if (name == "rfc1459") return CaseMapping::Rfc1459;
    if (name == "strict-rfc1459") return CaseMapping::StrictRfc1459;
    return std::nullopt;
}

char ircLower(char c, CaseMapping mapping) {
    if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
    if (mapping == CaseMapping::Ascii) return c;
    switch (c) {
        case '[':
            return '{';
        case ']':
            return '}';
        case '\\':
            return '|';
        case '~':
            return mapping == CaseMapping::Rfc1459 ? '^' : c;
        default:
            return c;
    }
}

std::string ircLower(std::string_view text, CaseMapping mapping) {
    std::string out(text);
    for (char& c : out) c = ircLower(c, mapping);
    return out;
}

bool ircEquals(std::string_view a, std::string_view b, CaseMapping mapping) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ircLower(a[i], mapping) != ircLower(b[i], mapping)) return false;
    return true;
}

std::size_t IrcCaseHash::operator()(std::string_view key) const {
    // FNV-1a over the folded bytes: equal keys under the mapping hash equally.
    std::size_t h = 1469598103934665603ull;
    for (char c : key) {
        h ^= static_cast<unsigned char>(ircLower(c, mapping));
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace mxbridge::irc
