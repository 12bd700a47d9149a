// One IRC protocol line (RFC 1459 framing plus IRCv3 message tags), its parser, its
// serializer and builders for every command the bridge sends.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxbridge::irc {

// The body (everything after the tags) of a line may be 512 bytes including CR LF.
inline constexpr std::size_t kMaxBodyBytes = 512;
// IRCv3 message-tags: the tag section, '@' and the trailing space included, is capped at
// 8191 bytes (https://ircv3.net/specs/extensions/message-tags).
inline constexpr std::size_t kMaxTagBytes = 8191;

// "nick!user@host" split into parts. A server name has only `nick` set (it cannot be told
// from a nick without user/host, so callers check `isServer()` where it matters).
struct Source {
    std::string nick;
    std::string user;
    std::string host;

    static Source parse(std::string_view prefix);
    // No user and host, and a '.' in the name: how servers show up in prefixes.
    bool isServer() const;
};

struct IrcMessage {
    // Unescaped tag values; a tag sent without a value maps to "".
    std::map<std::string, std::string> tags;
    // The prefix without its ':'; empty when the line had none.
    std::string source;
    // Upper-cased; numerics stay as their three digits ("001").
    std::string command;
    std::vector<std::string> params;
    // The last param was sent with ':'. serialize() keeps the colon, so text that happens to
    // be one word still goes out the way IRC clients expect it.
    bool lastIsTrailing = false;
    // Set by parse(): the body exceeded 512 bytes. Servers do send such lines (some ircds
    // allow longer ones); we accept them and let the caller decide whether to care.
    bool bodyOverLimit = false;
    // Set by parse(): the tag section exceeded 8191 bytes; its tags were ignored.
    bool tagsOverLimit = false;

    // Parses one line, with or without its CR LF. CR, LF and NUL bytes that are left inside
    // the line are dropped before parsing: a server must not send them, and keeping them
    // would let them reach Matrix or, worse, a later serialize(). Returns nullopt for
    // empty lines, lines without a command and garbage, with the reason in `whyNot`.
    static std::optional<IrcMessage> parse(std::string_view line, std::string* whyNot = nullptr);

    // The line without CR LF. Whatever the fields hold, the result never contains CR, LF
    // or NUL, and every param but the last is a single non-empty word not starting with
    // ':' (such params are mangled rather than allowed to shift the others; see message.cpp).
    std::string serialize() const;
    // serialize() + "\r\n", ready for the socket.
    std::string wire() const;

    Source sourceParts() const { return Source::parse(source); }
    // params[i], or "" when absent: handlers read fixed positions without bounds checks.
    const std::string& param(std::size_t i) const;
    // The tag's value, or nullopt when the tag is absent.
    std::optional<std::string_view> tag(std::string_view key) const;
    bool isNumeric() const;
};

// IRCv3 tag-value escaping: ';' -> "\:", ' ' -> "\s", '\' -> "\\", CR -> "\r", LF -> "\n".
std::string escapeTagValue(std::string_view value);
// The reverse; an unknown escape drops the backslash, a trailing lone backslash is dropped.
std::string unescapeTagValue(std::string_view value);

std::string base64Encode(std::string_view bytes);

// Builders for what a client sends. All text goes through serialize()'s sanitising, so a
// Matrix body or display name can never smuggle a second command onto the wire.
namespace build {

IrcMessage privmsg(std::string_view target, std::string_view text);
IrcMessage notice(std::string_view target, std::string_view text);
// PRIVMSG target :\x01ACTION text\x01 (\x01 inside `text` is dropped).
IrcMessage ctcpAction(std::string_view target, std::string_view text);
IrcMessage join(std::string_view channel, std::string_view key = {});
IrcMessage part(std::string_view channel, std::string_view reason = {});
IrcMessage nick(std::string_view nickname);
// USER <username> 0 * :<realname>
IrcMessage user(std::string_view username, std::string_view realname);
IrcMessage pass(std::string_view password);
IrcMessage capLs(std::string_view version = "302");
IrcMessage capReq(const std::vector<std::string>& caps);
IrcMessage capEnd();
IrcMessage authenticate(std::string_view payload);
// SASL PLAIN: base64("authzid\0authcid\0password") cut into 400-byte AUTHENTICATE lines; a
// final "AUTHENTICATE +" follows when the last chunk is exactly 400 bytes (or the payload is
// empty), so the server knows the message ended (IRCv3 sasl-3.1).
std::vector<IrcMessage> authenticatePlain(std::string_view authzid, std::string_view authcid,
                                          std::string_view password);
IrcMessage ping(std::string_view token);
IrcMessage pong(std::string_view token);
IrcMessage mode(std::string_view target, std::string_view modes,
                const std::vector<std::string>& args = {});
// Without `text` it queries the topic; with an empty one it clears it.
IrcMessage topic(std::string_view channel, std::optional<std::string_view> text = std::nullopt);
IrcMessage kick(std::string_view channel, std::string_view nickname, std::string_view reason = {});
IrcMessage whois(std::string_view nickname);
IrcMessage quit(std::string_view reason = {});

}  // namespace build

}  // namespace mxbridge::irc
