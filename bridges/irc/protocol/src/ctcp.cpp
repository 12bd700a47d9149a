// CTCP framing and the few automatic replies a bridge gives.
#include "mxbridge/irc/ctcp.h"

namespace mxbridge::irc {

namespace {

std::string clean(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != '\x01' && c != '\r' && c != '\n' && c != '\0') out += c;
    return out;
}

}  // namespace

bool isCtcp(std::string_view text) { return parseCtcp(text).has_value(); }

std::optional<CtcpMessage> parseCtcp(std::string_view text) {
    if (text.size() < 2 || text.front() != '\x01') return std::nullopt;
    std::string_view inner = text.substr(1);
    std::size_t end = inner.find('\x01');
    inner = inner.substr(0, end);
    std::size_t space = inner.find(' ');
    std::string_view command = inner.substr(0, space);
    if (command.empty()) return std::nullopt;
    CtcpMessage msg;
    for (char c : command)
        msg.command += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    if (space != std::string_view::npos) msg.params = std::string(inner.substr(space + 1));
    return msg;
}

std::string buildCtcp(std::string_view command, std::string_view params) {
    std::string out = "\x01" + clean(command);
    std::string p = clean(params);
    if (!p.empty()) out += " " + p;
    out += '\x01';
    return out;
}

std::optional<std::string> ctcpReply(const CtcpMessage& request, std::string_view version) {
    if (request.command == "VERSION") return buildCtcp("VERSION", version);
    if (request.command == "PING") return buildCtcp("PING", request.params.substr(0, 64));
    if (request.command == "CLIENTINFO")
        return buildCtcp("CLIENTINFO", "ACTION CLIENTINFO PING VERSION");
    return std::nullopt;
}

}  // namespace mxbridge::irc
