// Parsing and serializing IRC lines. The parser is lenient (servers differ), the serializer
// strict (whatever a Matrix user types must stay inside one line and one parameter).
#include "mxbridge/irc/message.h"

#include <algorithm>

namespace mxbridge::irc {

namespace {

bool isAsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }
char asciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool isValidCommand(std::string_view cmd) {
    if (cmd.empty()) return false;
    if (std::all_of(cmd.begin(), cmd.end(), isAsciiAlpha)) return true;
    return cmd.size() == 3 && std::all_of(cmd.begin(), cmd.end(), isAsciiDigit);
}

bool isTagKeyChar(char c) {
    return isAsciiAlpha(c) || isAsciiDigit(c) || c == '-' || c == '/' || c == '.';
}

// Keeps only what a tag key may hold, so a hostile key cannot end the tag section early.
std::string sanitizeTagKey(std::string_view key) {
    std::string out;
    std::size_t i = 0;
    if (!key.empty() && key.front() == '+') {
        out += '+';
        i = 1;
    }
    for (; i < key.size(); ++i)
        if (isTagKeyChar(key[i])) out += key[i];
    return out == "+" ? std::string() : out;
}

// CR and LF become spaces (two lines of a Matrix message should not run into one word);
// NUL is dropped because it ends the line for C-based servers.
std::string cleanText(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\0') continue;
        out += (c == '\r' || c == '\n') ? ' ' : c;
    }
    return out;
}

// A middle param that would contain a space, be empty or start with ':' would shift or
// swallow the params after it. No legitimate caller produces one, so we mangle it rather
// than fail: spaces and leading colons go, and an empty one becomes "*".
std::string cleanMiddle(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != '\0' && c != '\r' && c != '\n' && c != ' ') out += c;
    std::size_t colons = out.find_first_not_of(':');
    out.erase(0, colons == std::string::npos ? out.size() : colons);
    return out.empty() ? std::string("*") : out;
}

void parseTags(std::string_view section, std::map<std::string, std::string>& tags) {
    while (!section.empty()) {
        std::size_t semi = section.find(';');
        std::string_view item = section.substr(0, semi);
        section = semi == std::string_view::npos ? std::string_view() : section.substr(semi + 1);
        std::size_t eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        if (key.empty()) continue;
        std::string value =
            eq == std::string_view::npos ? std::string() : unescapeTagValue(item.substr(eq + 1));
        // A repeated key: the last one wins, as message-tags says.
        tags[std::string(key)] = std::move(value);
    }
}

}  // namespace

Source Source::parse(std::string_view prefix) {
    Source s;
    std::size_t bang = prefix.find('!');
    std::size_t at = prefix.find('@', bang == std::string_view::npos ? 0 : bang);
    std::size_t nickEnd = std::min(bang, at);
    s.nick = std::string(prefix.substr(0, nickEnd));
    if (bang != std::string_view::npos)
        s.user = std::string(prefix.substr(
            bang + 1, at == std::string_view::npos ? std::string_view::npos : at - bang - 1));
    if (at != std::string_view::npos) s.host = std::string(prefix.substr(at + 1));
    return s;
}

bool Source::isServer() const {
    return user.empty() && host.empty() && nick.find('.') != std::string::npos;
}

std::string escapeTagValue(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case ';':
                out += "\\:";
                break;
            case ' ':
                out += "\\s";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\0':
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string unescapeTagValue(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i == value.size()) break;
        switch (value[i]) {
            case ':':
                out += ';';
                break;
            case 's':
                out += ' ';
                break;
            case '\\':
                out += '\\';
                break;
            case 'r':
                out += '\r';
                break;
            case 'n':
                out += '\n';
                break;
            default:
                out += value[i];
        }
    }
    return out;
}

std::optional<IrcMessage> IrcMessage::parse(std::string_view raw, std::string* whyNot) {
    auto fail = [whyNot](const char* reason) -> std::optional<IrcMessage> {
        if (whyNot) *whyNot = reason;
        return std::nullopt;
    };

    std::string line;
    line.reserve(raw.size());
    for (char c : raw)
        if (c != '\r' && c != '\n' && c != '\0') line += c;

    IrcMessage msg;
    std::string_view rest = line;
    auto skipSpaces = [&rest] {
        std::size_t n = rest.find_first_not_of(' ');
        rest.remove_prefix(n == std::string_view::npos ? rest.size() : n);
    };
    auto nextWord = [&rest] {
        std::size_t sp = rest.find(' ');
        std::string_view word = rest.substr(0, sp);
        rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp);
        return word;
    };

    skipSpaces();
    if (rest.empty()) return fail("empty line");

    if (rest.front() == '@') {
        std::string_view section = nextWord();
        // +1 for the space that ends the section, which the limit includes.
        if (section.size() + 1 > kMaxTagBytes)
            msg.tagsOverLimit = true;
        else
            parseTags(section.substr(1), msg.tags);
        skipSpaces();
    }

    msg.bodyOverLimit = rest.size() + 2 > kMaxBodyBytes;

    if (!rest.empty() && rest.front() == ':') {
        std::string_view prefix = nextWord();
        msg.source = std::string(prefix.substr(1));
        skipSpaces();
    }

    std::string_view command = nextWord();
    if (command.empty()) return fail("missing command");
    if (!isValidCommand(command))
        return fail("command is neither letters nor a three-digit numeric");
    msg.command.reserve(command.size());
    for (char c : command) msg.command += asciiUpper(c);

    for (;;) {
        skipSpaces();
        if (rest.empty()) break;
        if (rest.front() == ':') {
            msg.params.emplace_back(rest.substr(1));
            msg.lastIsTrailing = true;
            break;
        }
        msg.params.emplace_back(nextWord());
    }
    return msg;
}

std::string IrcMessage::serialize() const {
    std::string out;
    if (!tags.empty()) {
        std::string section;
        for (const auto& [key, value] : tags) {
            std::string cleanKey = sanitizeTagKey(key);
            if (cleanKey.empty()) continue;
            section += section.empty() ? "@" : ";";
            section += cleanKey;
            if (!value.empty()) {
                section += '=';
                section += escapeTagValue(value);
            }
        }
        if (!section.empty()) {
            out += section;
            out += ' ';
        }
    }

    std::string cleanSource;
    for (char c : source)
        if (c != ' ' && c != '\r' && c != '\n' && c != '\0') cleanSource += c;
    if (!cleanSource.empty()) {
        out += ':';
        out += cleanSource;
        out += ' ';
    }

    std::string cleanCommand;
    for (char c : command)
        if (isAsciiAlpha(c) || isAsciiDigit(c)) cleanCommand += asciiUpper(c);
    out += cleanCommand.empty() ? std::string("*") : cleanCommand;

    for (std::size_t i = 0; i < params.size(); ++i) {
        out += ' ';
        if (i + 1 < params.size()) {
            out += cleanMiddle(params[i]);
            continue;
        }
        std::string last = cleanText(params[i]);
        if (lastIsTrailing || last.empty() || last.front() == ':' ||
            last.find(' ') != std::string::npos)
            out += ':';
        out += last;
    }
    return out;
}

std::string IrcMessage::wire() const { return serialize() + "\r\n"; }

const std::string& IrcMessage::param(std::size_t i) const {
    static const std::string empty;
    return i < params.size() ? params[i] : empty;
}

std::optional<std::string_view> IrcMessage::tag(std::string_view key) const {
    auto it = tags.find(std::string(key));
    if (it == tags.end()) return std::nullopt;
    return std::string_view(it->second);
}

bool IrcMessage::isNumeric() const {
    return command.size() == 3 && std::all_of(command.begin(), command.end(), isAsciiDigit);
}

std::string base64Encode(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    std::size_t left = bytes.size() - i;
    if (left > 0) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (left == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

namespace build {

namespace {

IrcMessage make(std::string command, std::vector<std::string> params, bool trailing = false) {
    IrcMessage m;
    m.command = std::move(command);
    m.params = std::move(params);
    m.lastIsTrailing = trailing;
    return m;
}

std::string str(std::string_view s) { return std::string(s); }

}  // namespace

IrcMessage privmsg(std::string_view target, std::string_view text) {
    return make("PRIVMSG", {str(target), str(text)}, true);
}

IrcMessage notice(std::string_view target, std::string_view text) {
    return make("NOTICE", {str(target), str(text)}, true);
}

IrcMessage ctcpAction(std::string_view target, std::string_view text) {
    std::string body =
        "\x01"
        "ACTION ";
    for (char c : text)
        if (c != '\x01') body += c;
    body += '\x01';
    return make("PRIVMSG", {str(target), std::move(body)}, true);
}

IrcMessage join(std::string_view channel, std::string_view key) {
    if (key.empty()) return make("JOIN", {str(channel)});
    return make("JOIN", {str(channel), str(key)});
}

IrcMessage part(std::string_view channel, std::string_view reason) {
    if (reason.empty()) return make("PART", {str(channel)});
    return make("PART", {str(channel), str(reason)}, true);
}

IrcMessage nick(std::string_view nickname) { return make("NICK", {str(nickname)}); }

IrcMessage user(std::string_view username, std::string_view realname) {
    return make("USER", {str(username), "0", "*", str(realname)}, true);
}

IrcMessage pass(std::string_view password) { return make("PASS", {str(password)}); }

IrcMessage capLs(std::string_view version) {
    if (version.empty()) return make("CAP", {"LS"});
    return make("CAP", {"LS", str(version)});
}

IrcMessage capReq(const std::vector<std::string>& caps) {
    std::string list;
    for (const auto& cap : caps) {
        if (!list.empty()) list += ' ';
        list += cap;
    }
    return make("CAP", {"REQ", std::move(list)}, true);
}

IrcMessage capEnd() { return make("CAP", {"END"}); }

IrcMessage authenticate(std::string_view payload) { return make("AUTHENTICATE", {str(payload)}); }

std::vector<IrcMessage> authenticatePlain(std::string_view authzid, std::string_view authcid,
                                          std::string_view password) {
    constexpr std::size_t kChunk = 400;
    std::string raw;
    raw.append(authzid).append(1, '\0').append(authcid).append(1, '\0').append(password);
    std::string encoded = base64Encode(raw);
    std::vector<IrcMessage> out;
    for (std::size_t i = 0; i < encoded.size(); i += kChunk)
        out.push_back(authenticate(std::string_view(encoded).substr(i, kChunk)));
    if (encoded.size() % kChunk == 0) out.push_back(authenticate("+"));
    return out;
}

IrcMessage ping(std::string_view token) { return make("PING", {str(token)}); }
IrcMessage pong(std::string_view token) { return make("PONG", {str(token)}); }

IrcMessage mode(std::string_view target, std::string_view modes,
                const std::vector<std::string>& args) {
    std::vector<std::string> params{str(target)};
    if (!modes.empty()) params.push_back(str(modes));
    params.insert(params.end(), args.begin(), args.end());
    return make("MODE", std::move(params));
}

IrcMessage topic(std::string_view channel, std::optional<std::string_view> text) {
    if (!text) return make("TOPIC", {str(channel)});
    return make("TOPIC", {str(channel), str(*text)}, true);
}

IrcMessage kick(std::string_view channel, std::string_view nickname, std::string_view reason) {
    if (reason.empty()) return make("KICK", {str(channel), str(nickname)});
    return make("KICK", {str(channel), str(nickname), str(reason)}, true);
}

IrcMessage whois(std::string_view nickname) { return make("WHOIS", {str(nickname)}); }

IrcMessage quit(std::string_view reason) {
    if (reason.empty()) return make("QUIT", {});
    return make("QUIT", {str(reason)}, true);
}

}  // namespace build

}  // namespace mxbridge::irc
