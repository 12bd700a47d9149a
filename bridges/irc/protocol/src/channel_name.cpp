// Channel names as the server's 005 allows them (https://modern.ircdocs.horse/#channels).
#include "mxbridge/irc/channel_name.h"

namespace mxbridge::irc {

std::optional<std::string> channelNameProblem(std::string_view name, const ISupport& server) {
    const std::string& types = server.chanTypes();
    if (name.empty()) return "the channel name is empty";
    if (types.find(name.front()) == std::string::npos)
        return "a channel name starts with one of \"" + types + "\" on this server";
    if (name.size() > server.channelLen())
        return "the channel name is longer than this server's " + std::to_string(server.channelLen()) +
               " bytes (CHANNELLEN)";
    for (char c : name) {
        // Separators of JOIN's list and of parameters, and what ends or corrupts a line.
        if (c == ',') return "a channel name cannot hold ',' (it would name several channels)";
        if (c == ' ') return "a channel name cannot hold a space";
        if (c == '\x07' || c == '\0' || c == '\r' || c == '\n')
            return "a channel name cannot hold control characters (BEL, NUL, CR, LF)";
    }
    return std::nullopt;
}

}  // namespace mxbridge::irc
