#include "chat_mapping.h"

#include <algorithm>
#include <cctype>

namespace mxbridge::purple {

std::string chatRoomId(const std::string& network, const std::string& owner, const std::string& chat) {
    return "chat/" + network + "/" + owner + "/" + chat;
}

std::optional<ChatRoom> parseChatRoomId(std::string_view id) {
    constexpr std::string_view kPrefix = "chat/";
    if (id.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    id.remove_prefix(kPrefix.size());
    std::size_t first = id.find('/');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = id.find('/', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    ChatRoom room{.network = std::string(id.substr(0, first)),
                  .owner = std::string(id.substr(first + 1, second - first - 1)),
                  .chat = std::string(id.substr(second + 1))};
    if (room.network.empty() || room.owner.empty() || room.chat.empty()) return std::nullopt;
    return room;
}

std::string chatUserKey(const std::string& chat, const wire::ChatUser& user) {
    return user.buddy.empty() ? chat + "/" + user.name : user.buddy;
}

bool namesChat(std::string_view typed, std::string_view chat) {
    // "room@server/nick": the nick is not part of an XMPP room's name. IRC channel names
    // hold no '/' that matters here.
    if (std::size_t slash = typed.find('/'); slash != std::string_view::npos && typed.find('@') < slash)
        typed = typed.substr(0, slash);
    return typed.size() == chat.size() &&
           std::equal(typed.begin(), typed.end(), chat.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
}

}  // namespace mxbridge::purple
