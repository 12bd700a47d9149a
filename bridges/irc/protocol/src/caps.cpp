// CAP negotiation bookkeeping.
#include "mxbridge/irc/caps.h"

namespace mxbridge::irc {

namespace {

std::vector<std::string_view> words(std::string_view list) {
    std::vector<std::string_view> out;
    while (!list.empty()) {
        std::size_t sp = list.find(' ');
        if (sp != 0) out.push_back(list.substr(0, sp));
        if (sp == std::string_view::npos) break;
        list.remove_prefix(sp + 1);
    }
    return out;
}

}  // namespace

const std::vector<std::string>& CapNegotiation::defaultWanted() {
    static const std::vector<std::string> caps = {
        "server-time",    "message-tags",      "echo-message",  "away-notify",
        "account-notify", "chghost",           "multi-prefix",  "batch",
        "sasl",           "userhost-in-names", "extended-join", "cap-notify",
    };
    return caps;
}

CapNegotiation::CapNegotiation(std::vector<std::string> wanted) : wanted_(std::move(wanted)) {}

void CapNegotiation::addTokens(std::string_view list, std::map<std::string, std::string>& into) {
    for (std::string_view token : words(list)) {
        std::size_t eq = token.find('=');
        into[std::string(token.substr(0, eq))] =
            eq == std::string_view::npos ? std::string() : std::string(token.substr(eq + 1));
    }
}

CapEvent CapNegotiation::handle(const IrcMessage& msg) {
    if (msg.command != "CAP" || msg.params.size() < 3) return CapEvent::Ignored;
    std::string sub = msg.params[1];
    for (char& c : sub)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    // "CAP <nick> LS * :caps" marks a continuation; the list is always the last param.
    bool more = msg.params.size() >= 4 && msg.params[2] == "*";
    const std::string& list = msg.params.back();

    if (sub == "LS") {
        if (lsComplete_) {  // a fresh LS after an earlier one replaces it
            available_.clear();
            lsComplete_ = false;
        }
        addTokens(list, available_);
        lsComplete_ = !more;
        return more ? CapEvent::LsPartial : CapEvent::LsDone;
    }
    if (sub == "ACK") {
        for (std::string_view token : words(list)) {
            if (!token.empty() && token.front() == '-')
                enabled_.erase(std::string(token.substr(1)));
            else
                enabled_.insert(std::string(token.substr(0, token.find('='))));
        }
        return CapEvent::Acked;
    }
    if (sub == "NAK") return CapEvent::Naked;
    if (sub == "NEW") {
        addTokens(list, available_);
        return CapEvent::New;
    }
    if (sub == "DEL") {
        for (std::string_view token : words(list)) {
            available_.erase(std::string(token));
            enabled_.erase(std::string(token));
        }
        return CapEvent::Deleted;
    }
    return CapEvent::Ignored;
}

std::vector<std::string> CapNegotiation::saslMechanisms() const {
    std::vector<std::string> out;
    auto it = available_.find("sasl");
    if (it == available_.end()) return out;
    std::string_view rest = it->second;
    while (!rest.empty()) {
        std::size_t comma = rest.find(',');
        if (comma != 0) out.emplace_back(rest.substr(0, comma));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return out;
}

std::vector<std::string> CapNegotiation::toRequest(bool wantSasl) const {
    std::vector<std::string> out;
    for (const auto& cap : wanted_) {
        if (!available_.count(cap) || enabled_.count(cap)) continue;
        if (cap == "sasl") {
            auto mechs = saslMechanisms();
            bool plain = mechs.empty();
            for (const auto& m : mechs) plain = plain || m == "PLAIN";
            if (!wantSasl || !plain) continue;
        }
        out.push_back(cap);
    }
    return out;
}

std::vector<IrcMessage> CapNegotiation::requestMessages(bool wantSasl) const {
    constexpr std::size_t kMaxList = 400;
    std::vector<IrcMessage> out;
    std::vector<std::string> batch;
    std::size_t size = 0;
    for (const auto& cap : toRequest(wantSasl)) {
        if (!batch.empty() && size + 1 + cap.size() > kMaxList) {
            out.push_back(build::capReq(batch));
            batch.clear();
            size = 0;
        }
        size += (batch.empty() ? 0 : 1) + cap.size();
        batch.push_back(cap);
    }
    if (!batch.empty()) out.push_back(build::capReq(batch));
    return out;
}

}  // namespace mxbridge::irc
