// Word-boundary nick matching under the server's case mapping.
#include "mxbridge/irc/mentions.h"

#include <algorithm>

namespace mxbridge::irc {

namespace {

bool isWordChar(char c) {
    auto u = static_cast<unsigned char>(c);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           u >= 0x80 || c == '[' || c == ']' || c == '\\' || c == '`' || c == '_' || c == '^' ||
           c == '{' || c == '|' || c == '}' || c == '-';
}

}  // namespace

std::vector<Mention> findMentions(std::string_view text, const std::vector<std::string>& nicks,
                                  CaseMapping mapping) {
    std::vector<std::pair<std::string, const std::string*>> folded;
    for (const auto& n : nicks)
        if (!n.empty()) folded.emplace_back(ircLower(n, mapping), &n);
    std::stable_sort(folded.begin(), folded.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    std::string lower = ircLower(text, mapping);

    std::vector<Mention> found;
    for (std::size_t i = 0; i < lower.size();) {
        if (i > 0 && isWordChar(lower[i - 1])) {
            ++i;
            continue;
        }
        bool matched = false;
        for (const auto& [key, original] : folded) {
            if (lower.compare(i, key.size(), key) != 0) continue;
            std::size_t end = i + key.size();
            if (end < lower.size() && isWordChar(lower[end])) continue;
            found.push_back(Mention{i, key.size(), *original});
            i = end;
            matched = true;
            break;
        }
        if (!matched) ++i;
    }
    return found;
}

bool mentionsNick(std::string_view text, std::string_view nick, CaseMapping mapping) {
    return !findMentions(text, {std::string(nick)}, mapping).empty();
}

}  // namespace mxbridge::irc
