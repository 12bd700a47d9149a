#include "muc.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "mxbridge/xmpp/namespaces.h"

namespace mxbridge::xmpp {

namespace {

constexpr std::string_view kRoom = "{room}";
constexpr std::string_view kService = "{service}";

std::size_t countOf(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool endsWith(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

std::optional<MucAliasTemplate> MucAliasTemplate::parse(std::string_view text, std::string* why) {
    auto refuse = [&](std::string reason) -> std::optional<MucAliasTemplate> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    if (countOf(text, kRoom) != 1 || countOf(text, kService) != 1)
        return refuse("needs {room} and {service}, each exactly once");
    MucAliasTemplate t;
    t.text_ = std::string(text);
    auto room = text.find(kRoom);
    auto service = text.find(kService);
    t.roomFirst_ = room < service;
    auto first = std::min(room, service);
    auto second = std::max(room, service);
    std::size_t firstLen = t.roomFirst_ ? kRoom.size() : kService.size();
    std::size_t secondLen = t.roomFirst_ ? kService.size() : kRoom.size();
    t.prefix_ = std::string(text.substr(0, first));
    t.middle_ = std::string(text.substr(first + firstLen, second - first - firstLen));
    t.suffix_ = std::string(text.substr(second + secondLen));
    // The service's end is found by the text between: it must hold a character no domain
    // name holds, or "{room}.{service}" could split conference.example.org anywhere.
    bool domainCharsOnly = std::all_of(t.middle_.begin(), t.middle_.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    });
    if (domainCharsOnly)
        return refuse("{room} and {service} need text between them with a character no domain holds, e.g. '_'");
    if (t.text_.find(':') != std::string::npos) return refuse("an alias localpart cannot hold ':'");
    return t;
}

std::optional<Jid> MucAliasTemplate::roomFor(std::string_view localpart) const {
    if (localpart.size() < prefix_.size() + middle_.size() + suffix_.size()) return std::nullopt;
    if (!startsWith(localpart, prefix_) || !endsWith(localpart, suffix_)) return std::nullopt;
    std::string_view inner = localpart.substr(prefix_.size(), localpart.size() - prefix_.size() - suffix_.size());
    // The service is a domain: it ends at the middle text nearest to it.
    auto split = roomFirst_ ? inner.rfind(middle_) : inner.find(middle_);
    if (split == std::string_view::npos) return std::nullopt;
    std::string_view first = inner.substr(0, split);
    std::string_view second = inner.substr(split + middle_.size());
    std::string_view room = roomFirst_ ? first : second;
    std::string_view service = roomFirst_ ? second : first;
    if (room.empty() || service.empty()) return std::nullopt;
    return Jid::fromParts(room, service);
}

std::string MucAliasTemplate::localpartFor(const Jid& room) const {
    const std::string& first = roomFirst_ ? room.local() : room.domain();
    const std::string& second = roomFirst_ ? room.domain() : room.local();
    return prefix_ + first + middle_ + second + suffix_;
}

OccupantIdentity occupantIdentity(const Jid& room, std::string_view nick,
                                  std::optional<std::string_view> occupantId,
                                  std::optional<std::string_view> realJid) {
    // Three shapes that cannot meet: a bare JID has no '/' nor a '#' in its domain, the
    // occupant JID has '/' right after the room, the occupant id form has '#' there.
    if (occupantId && !occupantId->empty()) return {room.bareStr() + "#" + std::string(*occupantId)};
    if (realJid) {
        if (auto jid = Jid::parse(*realJid)) return {jid->bareStr()};
    }
    return {room.bareStr() + "/" + std::string(nick)};
}

std::optional<MucPresence> parseMucPresence(const Element& presence) {
    if (presence.name() != "presence") return std::nullopt;
    std::string_view type = presence.attrOr("type");
    if (type != "" && type != "unavailable") return std::nullopt;
    auto from = Jid::parse(presence.attrOr("from"));
    if (!from || from->resource().empty()) return std::nullopt;
    const Element* x = presence.child("x", ns::kMucUser);
    if (!x) return std::nullopt;
    MucPresence p;
    p.nick = from->resource();
    p.available = type != "unavailable";
    for (const Element* status : x->children("status", ns::kMucUser)) {
        std::string_view code = status->attrOr("code");
        int value = 0;
        auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
        if (ec == std::errc() && end == code.data() + code.size()) p.statuses.insert(value);
    }
    p.self = p.statuses.count(110) > 0;
    p.roomCreated = p.statuses.count(201) > 0;
    if (const Element* item = x->child("item", ns::kMucUser)) {
        if (auto jid = item->attr("jid")) {
            if (auto real = Jid::parse(*jid)) p.realJid = real->bareStr();
        }
        if (p.statuses.count(303) > 0) {
            if (auto nick = item->attr("nick"); nick && !nick->empty()) p.newNick = std::string(*nick);
        }
    }
    if (const Element* id = presence.child("occupant-id", ns::kOccupantId)) {
        if (auto value = id->attr("id"); value && !value->empty()) p.occupantId = std::string(*value);
    }
    return p;
}

std::optional<std::string> roomStanzaId(const Element& message, const Jid& room) {
    for (const Element* sid : message.children("stanza-id", ns::kStanzaIds)) {
        auto by = Jid::parse(sid->attrOr("by"));
        if (by && by->bare() == room.bare() && by->isBare() && !sid->attrOr("id").empty())
            return std::string(sid->attrOr("id"));
    }
    return std::nullopt;
}

Element mucJoinPresence(const Jid& from, const Jid& occupant) {
    Element presence("presence", std::string(ns::kComponentAccept));
    presence.setAttr("from", from.str()).setAttr("to", occupant.str());
    Element& x = presence.addChild("x", std::string(ns::kMuc));
    x.addChild("history", std::string(ns::kMuc)).setAttr("maxstanzas", "0");
    return presence;
}

std::string nickAttempt(std::string_view wanted, std::string_view fallback, int attempt) {
    std::string base(wanted);
    while (!base.empty() && base.back() == ' ') base.pop_back();
    while (!base.empty() && base.front() == ' ') base.erase(base.begin());
    if (base.empty()) base = std::string(fallback);
    if (attempt <= 0) return base;
    if (attempt == 1) return base + " (Matrix)";
    return base + " (Matrix " + std::to_string(attempt) + ")";
}

bool RecentIds::insert(const std::string& id) {
    if (!ids_.insert(id).second) return false;
    order_.push_back(id);
    while (order_.size() > capacity_) {
        ids_.erase(order_.front());
        order_.pop_front();
    }
    return true;
}

}  // namespace mxbridge::xmpp
