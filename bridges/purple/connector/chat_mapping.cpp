#include "chat_mapping.h"

#include "im_mapping.h"

#include <algorithm>
#include <cctype>

namespace mxbridge::purple {

std::string chatRoomId(const std::string& network, const std::string& owner, const std::string& chat) {
    return "chat/" + network + "/" + owner + "/" + chat;
}

std::optional<ChatRoom> parseChatRoomId(std::string_view id) {
    auto parts = splitRoomId(id, "chat/");
    if (!parts) return std::nullopt;
    return ChatRoom{.network = std::move(parts->network), .owner = std::move(parts->owner), .chat = std::move(parts->rest)};
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
