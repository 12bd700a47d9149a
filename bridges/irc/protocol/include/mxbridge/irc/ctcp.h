// CTCP: "\x01COMMAND params\x01" inside PRIVMSG (requests) and NOTICE (replies).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::irc {

struct CtcpMessage {
    std::string command;  // upper-cased: ACTION, VERSION, PING...
    std::string params;
};

bool isCtcp(std::string_view text);
// The closing \x01 is optional (some clients drop it); nullopt when `text` is not CTCP.
std::optional<CtcpMessage> parseCtcp(std::string_view text);
// \x01, CR, LF and NUL are removed from both parts so the result stays one CTCP message.
std::string buildCtcp(std::string_view command, std::string_view params = {});
// The NOTICE body answering a request we answer automatically (VERSION, PING, CLIENTINFO);
// nullopt for the rest, ACTION included.
std::optional<std::string> ctcpReply(const CtcpMessage& request, std::string_view version);

}  // namespace mxbridge::irc
