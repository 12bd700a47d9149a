// RPL_ISUPPORT token parsing (https://modern.ircdocs.horse/#rplisupport-005).
#include "mxbridge/irc/isupport.h"

#include <charconv>

namespace mxbridge::irc {

namespace {

// Values may carry \xHH escapes (e.g. "\x20" for a space).
std::string unescapeValue(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 3 < v.size() && v[i + 1] == 'x') {
            unsigned value = 0;
            auto [ptr, ec] = std::from_chars(v.data() + i + 2, v.data() + i + 4, value, 16);
            if (ec == std::errc() && ptr == v.data() + i + 4) {
                out += static_cast<char>(value);
                i += 3;
                continue;
            }
        }
        out += v[i];
    }
    return out;
}

std::optional<std::size_t> toSize(std::string_view v) {
    std::size_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
    return n;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace

void ISupport::apply(const IrcMessage& msg) {
    // params: <our nick> <token>... [:are supported by this server]. The human-readable
    // text is the trailing param; a server that omits it still has all params as tokens.
    std::size_t end = msg.params.size() - (msg.lastIsTrailing && !msg.params.empty() ? 1 : 0);
    for (std::size_t i = 1; i < end; ++i) applyToken(msg.params[i]);
}

void ISupport::applyToken(std::string_view token) {
    if (token.empty()) return;
    bool removed = token.front() == '-';
    if (removed) token.remove_prefix(1);
    std::size_t eq = token.find('=');
    std::string key = upper(token.substr(0, eq));
    if (key.empty()) return;
    std::string value =
        eq == std::string_view::npos ? std::string() : unescapeValue(token.substr(eq + 1));
    if (removed)
        tokens_.erase(key);
    else
        tokens_[key] = value;
    applyKnown(key, value, removed);
}

void ISupport::applyKnown(const std::string& key, const std::string& value, bool removed) {
    if (key == "CASEMAPPING") {
        caseMapping_ =
            removed ? CaseMapping::Rfc1459 : parseCaseMapping(value).value_or(CaseMapping::Rfc1459);
    } else if (key == "CHANTYPES") {
        chanTypes_ = removed ? "#&" : value;
    } else if (key == "PREFIX") {
        prefixModes_ = removed ? "ov" : "";
        prefixSymbols_ = removed ? "@+" : "";
        std::size_t close = value.find(')');
        if (!removed && !value.empty() && value.front() == '(' && close != std::string::npos) {
            std::string modes = value.substr(1, close - 1);
            std::string symbols = value.substr(close + 1);
            if (modes.size() == symbols.size()) {
                prefixModes_ = modes;
                prefixSymbols_ = symbols;
            }
        }
    } else if (key == "CHANMODES") {
        std::string_view rest = value;
        for (int g = 0; g < 4; ++g) {
            std::size_t comma = rest.find(',');
            chanModes_[g] = removed ? std::string() : std::string(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
    } else if (key == "NICKLEN") {
        nickLen_ = removed ? 9 : toSize(value).value_or(9);
    } else if (key == "CHANNELLEN") {
        channelLen_ = removed ? 200 : toSize(value).value_or(200);
    } else if (key == "LINELEN") {
        lineLen_ = removed ? 512 : toSize(value).value_or(512);
    } else if (key == "TARGMAX") {
        targMax_.clear();
        std::string_view rest = removed ? std::string_view() : std::string_view(value);
        while (!rest.empty()) {
            std::size_t comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            std::size_t colon = item.find(':');
            if (colon == std::string_view::npos) continue;
            targMax_[upper(item.substr(0, colon))] = toSize(item.substr(colon + 1)).value_or(0);
        }
    }
}

std::optional<std::string> ISupport::value(std::string_view key) const {
    auto it = tokens_.find(upper(key));
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
}

bool ISupport::isChannel(std::string_view name) const {
    return !name.empty() && chanTypes_.find(name.front()) != std::string::npos;
}

std::optional<char> ISupport::modeForPrefix(char symbol) const {
    std::size_t i = prefixSymbols_.find(symbol);
    if (i == std::string::npos) return std::nullopt;
    return prefixModes_[i];
}

std::optional<char> ISupport::prefixForMode(char mode) const {
    std::size_t i = prefixModes_.find(mode);
    if (i == std::string::npos) return std::nullopt;
    return prefixSymbols_[i];
}

const std::string& ISupport::chanModes(int group) const {
    static const std::string empty;
    return group >= 0 && group < 4 ? chanModes_[group] : empty;
}

std::optional<std::size_t> ISupport::targetMax(std::string_view command) const {
    auto it = targMax_.find(upper(command));
    if (it == targMax_.end()) return std::nullopt;
    return it->second;
}

}  // namespace mxbridge::irc
