#include "gateway_rooms.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "muc.h"
#include "mxbridge/xmpp/namespaces.h"

namespace mxbridge::xmpp {

namespace {

constexpr std::string_view kAlias = "{alias}";
constexpr std::string_view kServer = "{server}";

bool isServerChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
}

bool isNick(std::string_view nick) { return !nick.empty() && Jid::fromParts("r", "muc.example", nick).has_value(); }

std::string trimmed(std::string_view s) {
    auto notSpace = [](char c) { return !std::isspace(static_cast<unsigned char>(c)); };
    auto begin = std::find_if(s.begin(), s.end(), notSpace);
    auto end = std::find_if(s.rbegin(), s.rend(), notSpace).base();
    return begin < end ? std::string(begin, end) : std::string();
}

}  // namespace

std::optional<GatewayRoomTemplate> GatewayRoomTemplate::parse(std::string_view text, std::string* why) {
    auto refuse = [&](std::string reason) -> std::optional<GatewayRoomTemplate> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    auto alias = text.find(kAlias);
    auto server = text.find(kServer);
    if (alias == std::string_view::npos || server == std::string_view::npos ||
        text.find(kAlias, alias + 1) != std::string_view::npos || text.find(kServer, server + 1) != std::string_view::npos)
        return refuse("needs {alias} and {server}, each exactly once");
    if (server < alias) return refuse("{alias} must come before {server}");
    GatewayRoomTemplate t;
    t.text_ = std::string(text);
    t.prefix_ = std::string(text.substr(0, alias));
    t.middle_ = std::string(text.substr(alias + kAlias.size(), server - alias - kAlias.size()));
    t.suffix_ = std::string(text.substr(server + kServer.size()));
    // Where the server name starts is found by the text between: it must hold a character
    // no server name holds, or "{alias}.{server}" could split a.hs.example anywhere.
    if (std::all_of(t.middle_.begin(), t.middle_.end(), isServerChar))
        return refuse("{alias} and {server} need text between them with a character no server name holds, e.g. '#'");
    if (!t.suffix_.empty() && isServerChar(t.suffix_.front()))
        return refuse("text after {server} must start with a character no server name holds");
    return t;
}

std::optional<std::string> GatewayRoomTemplate::aliasFor(std::string_view jidLocalpart) const {
    std::string raw = unescapeLocalpart(jidLocalpart);
    std::string_view s = raw;
    if (s.size() < prefix_.size() + middle_.size() + suffix_.size()) return std::nullopt;
    if (s.substr(0, prefix_.size()) != prefix_ || s.substr(s.size() - suffix_.size()) != suffix_) return std::nullopt;
    std::string_view inner = s.substr(prefix_.size(), s.size() - prefix_.size() - suffix_.size());
    auto split = inner.rfind(middle_);
    if (split == std::string_view::npos) return std::nullopt;
    std::string_view localpart = inner.substr(0, split);
    std::string_view server = inner.substr(split + middle_.size());
    if (localpart.empty() || server.empty() || localpart.find(':') != std::string_view::npos) return std::nullopt;
    if (!std::all_of(server.begin(), server.end(), isServerChar)) return std::nullopt;
    return "#" + std::string(localpart) + ":" + std::string(server);
}

std::optional<std::string> GatewayRoomTemplate::localpartFor(std::string_view alias) const {
    auto colon = alias.find(':');
    if (alias.size() < 4 || alias[0] != '#' || colon == std::string_view::npos || colon == 1 ||
        colon + 1 == alias.size())
        return std::nullopt;
    std::string_view server = alias.substr(colon + 1);
    if (!std::all_of(server.begin(), server.end(), isServerChar)) return std::nullopt;
    return escapeLocalpart(prefix_ + std::string(alias.substr(1, colon - 1)) + middle_ + std::string(server) + suffix_);
}

std::string matrixMemberNick(std::string_view displayName, std::string_view userId, const std::set<std::string>& taken) {
    std::string nick = trimmed(displayName);
    std::string localpart(userId.substr(userId.empty() ? 0 : 1, userId.find(':') == std::string_view::npos
                                                                  ? std::string_view::npos
                                                                  : userId.find(':') - 1));
    if (!isNick(nick)) nick = localpart;
    if (!isNick(nick)) nick = std::string(userId);
    if (!taken.count(nick)) return nick;
    // Two members showing the same name: the id tells them apart, as Matrix clients do.
    std::string distinct = nick + " (" + std::string(userId) + ")";
    for (int n = 2; taken.count(distinct) || !isNick(distinct); ++n)
        distinct = nick + " (" + std::string(userId) + " " + std::to_string(n) + ")";
    return distinct;
}

Element occupantPresence(const Jid& occupant, const Jid& to, const std::string& realJid, bool available,
                         const std::set<int>& statuses) {
    Element presence("presence", std::string(ns::kComponentAccept));
    presence.setAttr("from", occupant.str()).setAttr("to", to.str());
    if (!available) presence.setAttr("type", "unavailable");
    Element& x = presence.addChild("x", std::string(ns::kMucUser));
    Element& item = x.addChild("item", std::string(ns::kMucUser));
    item.setAttr("affiliation", "member").setAttr("role", available ? "participant" : "none");
    if (!realJid.empty()) item.setAttr("jid", realJid);
    for (int code : statuses) x.addChild("status", std::string(ns::kMucUser)).setAttr("code", std::to_string(code));
    return presence;
}

StanzaError joinRefusal(const Error& error) {
    if (error.code == "M_NOT_FOUND")
        return {.type = "cancel", .condition = "item-not-found", .text = "no Matrix room has this address: " + error.message};
    if (error.code == "M_FORBIDDEN")
        return {.type = "auth", .condition = "forbidden", .text = "the Matrix room does not let you in: " + error.message};
    if (error.code == "own_portal")
        return {.type = "cancel", .condition = "not-allowed", .text = error.message};
    if (error.code == "M_INVALID_PARAM" || error.code == "M_UNKNOWN_ALIAS" || error.code == "M_BAD_ALIAS")
        return {.type = "modify", .condition = "jid-malformed", .text = error.message};
    if (error.retryable)
        return {.type = "wait", .condition = "service-unavailable", .text = error.message};
    return {.type = "cancel", .condition = "undefined-condition", .text = error.message};
}

Element subjectMessage(const Jid& room, const Jid& to, const std::string& subject) {
    Element message("message", std::string(ns::kComponentAccept));
    message.setAttr("from", room.bareStr()).setAttr("to", to.str()).setAttr("type", "groupchat");
    message.addChild("subject", std::string(ns::kComponentAccept)).addText(subject);
    return message;
}

std::size_t historyWanted(const Element& joinPresence, std::size_t usual, std::size_t most) {
    const Element* x = joinPresence.child("x", ns::kMuc);
    const Element* history = x ? x->child("history", ns::kMuc) : nullptr;
    if (!history) return std::min(usual, most);
    if (history->attrOr("maxchars") == "0") return 0;
    std::string_view stanzas = history->attrOr("maxstanzas");
    if (stanzas.empty()) return std::min(usual, most);
    std::size_t n = 0;
    for (char c : stanzas) {
        if (c < '0' || c > '9') return std::min(usual, most);  // not a number: as if not asked
        n = std::min<std::size_t>(n * 10 + static_cast<std::size_t>(c - '0'), most);
    }
    return n;
}

std::string xmppTimestamp(std::int64_t ms) {
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
    return text;
}

Element historyMessage(const Jid& author, const Jid& to, const std::string& body, bool unstyled,
                       const std::string& stanzaId, std::int64_t timestampMs) {
    Element message("message", std::string(ns::kComponentAccept));
    message.setAttr("from", author.str()).setAttr("to", to.str()).setAttr("type", "groupchat");
    message.addChild("body", std::string(ns::kComponentAccept)).addText(body);
    if (unstyled) message.addChild("unstyled", "urn:xmpp:styling:0");
    message.addChild("delay", "urn:xmpp:delay")
        .setAttr("stamp", xmppTimestamp(timestampMs))
        .setAttr("from", author.bareStr());
    message.addChild("stanza-id", std::string(ns::kStanzaIds)).setAttr("id", stanzaId).setAttr("by", author.bareStr());
    return message;
}

}  // namespace mxbridge::xmpp
