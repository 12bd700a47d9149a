// The pure rules of the IRC bridge (see mapping.h).
#include "mapping.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <utility>

#include "mxbridge/ids.h"
#include "mxbridge/irc/casemapping.h"
#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/mentions.h"

namespace mxbridge::irc {

std::string foldName(std::string_view name) { return ircLower(name, CaseMapping::Rfc1459); }

bool isChannelName(std::string_view name) {
    return !name.empty() && (name[0] == '#' || name[0] == '&' || name[0] == '+' || name[0] == '!');
}

RemoteRoomId channelRoomId(std::string_view network, std::string_view channel) {
    return RemoteRoomId(std::string(network) + "/" + foldName(channel));
}

RemoteRoomId directRoomId(std::string_view network, std::string_view nick, const UserId& matrixUser) {
    return RemoteRoomId(std::string(network) + "/" + foldName(nick) + "/" + matrixUser.str());
}

RemoteUserId remoteUserId(std::string_view network, std::string_view nick) {
    return RemoteUserId(std::string(network) + "/" + foldName(nick));
}

std::optional<RemoteTarget> parseRemoteRoom(const RemoteRoomId& id) {
    const std::string& s = id.str();
    auto slash = s.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 >= s.size()) return std::nullopt;
    RemoteTarget t;
    t.network = s.substr(0, slash);
    std::string rest = s.substr(slash + 1);
    if (isChannelName(rest)) {
        t.channel = rest;
        return t;
    }
    auto second = rest.find('/');
    if (second == std::string::npos || second == 0 || second + 1 >= rest.size()) return std::nullopt;
    t.nick = rest.substr(0, second);
    t.matrixUser = UserId(rest.substr(second + 1));
    if (t.matrixUser.str()[0] != '@') return std::nullopt;
    return t;
}

std::string ghostIdFor(std::string_view network, std::string_view nick, bool defaultNetwork) {
    if (defaultNetwork) return foldName(nick);
    return std::string(network) + "." + foldName(nick);
}

std::optional<GhostName> parseGhostId(std::string_view ghostId, const std::vector<std::string>& networks,
                                      std::string_view defaultNetwork) {
    if (ghostId.empty()) return std::nullopt;
    auto dot = ghostId.find('.');
    if (dot == std::string_view::npos) return GhostName{std::string(defaultNetwork), std::string(ghostId)};
    std::string net(ghostId.substr(0, dot));
    if (std::find(networks.begin(), networks.end(), net) == networks.end()) return std::nullopt;
    if (dot + 1 >= ghostId.size()) return std::nullopt;
    return GhostName{net, std::string(ghostId.substr(dot + 1))};
}

std::string aliasIdFor(std::string_view network, std::string_view channel, bool defaultNetwork) {
    if (defaultNetwork) return foldName(channel);
    return std::string(network) + "_" + foldName(channel);
}

std::optional<AliasTarget> parseAliasLocalpart(std::string_view localpart,
                                               const std::vector<std::string>& networks,
                                               std::string_view defaultNetwork) {
    auto bare = localpart.find_first_of("#&");
    if (bare == std::string_view::npos) return std::nullopt;
    AliasTarget target{std::string(defaultNetwork), foldName(localpart.substr(bare))};
    std::string_view before = localpart.substr(0, bare);
    for (const auto& net : networks) {
        std::string tail = net + "_";
        if (before.size() < tail.size() || before.substr(before.size() - tail.size()) != tail) continue;
        std::size_t at = before.size() - tail.size();
        // The template's prefix ends where the network starts ("irc_" + "oftc_"), or is empty.
        if (at != 0 && before[at - 1] != '_') continue;
        target.network = net;
        break;
    }
    if (target.channel.size() < 2 || target.network.empty()) return std::nullopt;
    for (char c : target.channel)
        if (c == ' ' || c == ',' || c == '\x07' || c == ':') return std::nullopt;
    return target;
}

std::string fillTemplate(std::string_view tmpl, std::string_view localpart, std::string_view displayName) {
    std::string out(tmpl);
    auto replace = [&](std::string_view key, std::string_view value) {
        for (auto pos = out.find(key); pos != std::string::npos; pos = out.find(key, pos + value.size()))
            out.replace(pos, key.size(), value);
    };
    replace("{localpart}", localpart);
    replace("{displayname}", displayName);
    return out;
}

std::string usernameFor(std::string_view tmpl, std::string_view localpart, std::size_t maxLen) {
    std::string filled = fillTemplate(tmpl, localpart, localpart);
    std::string out;
    for (char c : filled) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
        if (out.size() >= maxLen) break;
    }
    if (out.empty()) out = "user";
    if (std::isdigit(static_cast<unsigned char>(out[0]))) out = ("u" + out).substr(0, maxLen);
    return out;
}

std::vector<ModeChange> parseModeChanges(std::string_view modes, const std::vector<std::string>& args,
                                         const ISupport& isupport) {
    std::vector<ModeChange> out;
    bool add = true;
    std::size_t next = 0;
    auto takeArg = [&]() -> std::string { return next < args.size() ? args[next++] : std::string(); };
    for (char m : modes) {
        if (m == '+') { add = true; continue; }
        if (m == '-') { add = false; continue; }
        bool takes = false;
        if (isupport.prefixModes().find(m) != std::string::npos) takes = true;
        else if (isupport.chanModes(0).find(m) != std::string::npos) takes = true;  // list
        else if (isupport.chanModes(1).find(m) != std::string::npos) takes = true;  // always
        else if (isupport.chanModes(2).find(m) != std::string::npos) takes = add;   // when set
        out.push_back(ModeChange{m, add, takes ? takeArg() : std::string()});
    }
    return out;
}

int powerForModes(const std::set<char>& modes, const std::map<char, int>& modesToPower) {
    int level = 0;
    for (char m : modes) {
        auto it = modesToPower.find(m);
        if (it != modesToPower.end()) level = std::max(level, it->second);
    }
    return level;
}

std::pair<std::string, std::set<char>> parseNamesEntry(std::string_view entry, const ISupport& isupport) {
    std::set<char> modes;
    std::size_t i = 0;
    while (i < entry.size()) {
        auto mode = isupport.modeForPrefix(entry[i]);
        if (!mode) break;
        modes.insert(*mode);
        ++i;
    }
    std::string_view rest = entry.substr(i);
    auto bang = rest.find('!');
    if (bang != std::string_view::npos) rest = rest.substr(0, bang);
    return {std::string(rest), modes};
}

bool isNetsplitQuit(std::string_view reason) {
    static const std::regex pattern(R"(^[^\s.]+(\.[^\s.]+)+ [^\s.]+(\.[^\s.]+)+$)");
    if (reason.size() > 200) return false;
    return std::regex_match(reason.begin(), reason.end(), pattern);
}

void NetsplitTracker::quit(const std::string& nick, std::set<std::string> channels, Clock::time_point now) {
    auto& held = held_[nick];
    held.channels.insert(channels.begin(), channels.end());
    held.since = now;
}

bool NetsplitTracker::rejoined(const std::string& nick, const std::string& channel) {
    auto it = held_.find(nick);
    if (it == held_.end()) return false;
    bool wasIn = it->second.channels.erase(channel) > 0;
    if (it->second.channels.empty()) held_.erase(it);
    return wasIn;
}

std::vector<std::pair<std::string, std::set<std::string>>> NetsplitTracker::expired(Clock::time_point now) {
    std::vector<std::pair<std::string, std::set<std::string>>> out;
    for (auto it = held_.begin(); it != held_.end();) {
        if (now - it->second.since >= window_) {
            out.emplace_back(it->first, std::move(it->second.channels));
            it = held_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::string replacePills(std::string_view html,
                         const std::function<std::optional<std::string>(const std::string&)>& nickFor) {
    static const std::regex pill(R"re(<a\s+href=["']https://matrix\.to/#/((?:@|%40)[^"'?]+)[^"']*["']\s*>([\s\S]*?)</a>)re",
                                 std::regex::icase);
    std::string out;
    std::string input(html);
    auto begin = std::sregex_iterator(input.begin(), input.end(), pill);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        out.append(input, last, m.position(0) - last);
        std::string user = m[1].str();
        // %40 and friends in hrefs.
        std::string decoded;
        for (std::size_t i = 0; i < user.size(); ++i) {
            if (user[i] == '%' && i + 2 < user.size() + 0 && std::isxdigit(static_cast<unsigned char>(user[i + 1])) &&
                std::isxdigit(static_cast<unsigned char>(user[i + 2]))) {
                decoded += static_cast<char>(std::stoi(user.substr(i + 1, 2), nullptr, 16));
                i += 2;
            } else {
                decoded += user[i];
            }
        }
        auto nick = nickFor(decoded);
        out += nick ? escapeHtml(*nick) : m[2].str();
        last = m.position(0) + m.length(0);
    }
    out.append(input, last, std::string::npos);
    return out;
}

std::string linkMentions(std::string_view html, const std::map<std::string, std::string>& nickToUser) {
    if (nickToUser.empty()) return std::string(html);
    std::vector<std::string> nicks;
    for (const auto& [nick, user] : nickToUser) nicks.push_back(nick);
    std::map<std::string, std::string> folded;
    for (const auto& [nick, user] : nickToUser) folded[foldName(nick)] = user;
    std::string out;
    std::size_t pos = 0;
    bool inLink = false;
    while (pos < html.size()) {
        if (html[pos] == '<') {
            auto end = html.find('>', pos);
            if (end == std::string_view::npos) end = html.size() - 1;
            std::string_view tag = html.substr(pos, end - pos + 1);
            if (tag.rfind("<a", 0) == 0) inLink = true;
            if (tag.rfind("</a", 0) == 0) inLink = false;
            out.append(tag);
            pos = end + 1;
            continue;
        }
        auto next = html.find('<', pos);
        std::string_view text = html.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
        if (inLink) {
            out.append(text);
        } else {
            std::size_t done = 0;
            for (const Mention& m : findMentions(text, nicks, CaseMapping::Rfc1459)) {
                out.append(text.substr(done, m.offset - done));
                out += "<a href=\"https://matrix.to/#/" + escapeHtml(folded[foldName(m.nick)]) + "\">" +
                       std::string(text.substr(m.offset, m.length)) + "</a>";
                done = m.offset + m.length;
            }
            out.append(text.substr(done));
        }
        pos += text.size();
    }
    return out;
}

std::string relayPrefix(std::string_view displayName, bool emote) {
    std::string name;
    for (char c : displayName)
        if (c != '\r' && c != '\n' && c != '\0') name += c;
    if (name.empty()) name = "?";
    return emote ? "* " + name + " " : "<" + name + "> ";
}

std::string mediaLink(std::string_view mxc, const MediaLinks* links, std::string_view baseUrl,
                      std::string_view fileName) {
    if (links)
        if (std::optional<std::string> signed_ = links->publicUrl(mxc, fileName)) return *signed_;
    constexpr std::string_view scheme = "mxc://";
    if (baseUrl.empty() || !isValidMxcUri(mxc)) return std::string(mxc);
    std::string base(baseUrl);
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/_matrix/media/v3/download/" + std::string(mxc.substr(scheme.size()));
}

std::string condenseLines(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) {
            if (out.back() != ' ') out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

std::string remoteAuthorNick(const RemoteMessageId& id) {
    const std::string& r = id.str();
    auto a = r.find('/');
    auto b = a == std::string::npos ? a : r.find('/', a + 1);
    if (b == std::string::npos) return {};
    return r.substr(a + 1, b - a - 1);
}

bool isMatrixSentId(const RemoteMessageId& id) {
    const std::string& r = id.str();
    auto a = r.find('/');
    auto b = a == std::string::npos ? a : r.find('/', a + 1);
    return b != std::string::npos && r.compare(b + 1, 2, "m:") == 0;
}

std::string reactionAction(std::string_view key, std::string_view authorNick) {
    constexpr std::size_t kMaxKey = 64;
    std::string k = condenseLines(key);
    if (k.size() > kMaxKey) {
        std::size_t cut = kMaxKey;
        while (cut > 0 && (static_cast<unsigned char>(k[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
        k = k.substr(0, cut) + "…";
    }
    std::string text = "reacted " + k;
    if (!authorNick.empty()) text += " to " + std::string(authorNick);
    return text;
}

std::optional<ConsentAnswer> parseConsentAnswer(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            if (!word.empty()) words.push_back(std::exchange(word, {}));
            continue;
        }
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!word.empty()) words.push_back(word);
    if (words.size() != 2 || (words[0] != "yes" && words[0] != "no")) return std::nullopt;
    if (words[1].empty() || words[1].size() > 16) return std::nullopt;
    for (char c : words[1])
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return std::nullopt;
    return ConsentAnswer{words[0] == "yes", words[1]};
}

std::string consentId(const std::function<uint32_t()>& random, std::size_t length) {
    static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
    std::string id;
    for (std::size_t i = 0; i < length; ++i) id += kAlphabet[random() % kAlphabet.size()];
    return id;
}

}  // namespace mxbridge::irc
