// How libpurple chats (MUCs, IRC channels…) map onto Matrix, and the ids that are stored
// (they never change). A chat is joined through one Matrix user's own account, so each
// (owner, protocol, chat) is a room of its own that invites its owner; the people in the
// chat are ghosts. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mxbridge/purple/messages.h"

namespace mxbridge::purple {

// "chat/<network>/<owner>/<chat>": the chat as the plugin names its conversation
// ("room@conference.example.org", "#channel"), last and taken whole.
std::string chatRoomId(const std::string& network, const std::string& owner, const std::string& chat);

struct ChatRoom {
    std::string network;
    std::string owner;
    std::string chat;
};
std::optional<ChatRoom> parseChatRoomId(std::string_view id);

// A person in a chat: the buddy's own ghost when the plugin says who they are (so the same
// person in a DM and a chat is one ghost), else one for the nick in that chat:
// "<network>.<chat>/<nick>".
std::string chatUserKey(const std::string& chat, const wire::ChatUser& user);

// Whether what a user typed for !join ("Room@Conference.example.org/nick", "#Chan") names
// the joined chat `chat` (the plugin folds case, and the nick is not part of the name).
bool namesChat(std::string_view typed, std::string_view chat);

}  // namespace mxbridge::purple
