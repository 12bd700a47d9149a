// How 1:1 IMs map onto Matrix, and the ids that are stored (they never change): a DM room
// per (Matrix owner, protocol, buddy), a ghost per (protocol, buddy). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::purple {

// The remote room of an owner's IMs with one buddy: "im/<network>/<owner>/<buddy>". The
// buddy is last and taken whole, so names holding '/' stay intact; a Matrix id has none.
std::string imRoomId(const std::string& network, const std::string& owner, const std::string& buddy);

struct ImRoom {
    std::string network;
    std::string owner;
    std::string buddy;
};
std::optional<ImRoom> parseImRoomId(std::string_view id);

// A buddy's ghost ({id} of the user template) and remote user id: "<network>.<buddy>" and
// "<network>/<buddy>", the buddy as the plugin normalises it. A '.' (unlike '_') needs no
// escaping in a localpart: @purple_jabber.bob=40example.org.
std::string ghostIdOf(const std::string& network, const std::string& buddy);
std::string remoteUserIdOf(const std::string& network, const std::string& buddy);

// The host's handle for a login: "<owner> <network>" (a Matrix id has no space).
std::string accountHandleOf(const std::string& owner, const std::string& network);

// A Matrix message as libpurple's HTML-ish markup: the formatted body cleaned, or the plain
// body escaped with its line breaks as <br>.
std::string purpleMarkupOf(const std::string& body, const std::optional<std::string>& html);

struct MatrixText {
    std::string body;
    std::optional<std::string> html;  // only when the markup had any
    bool emote = false;               // matrixLineOf only: a "/me " line, without the "/me "
};
// libpurple's markup as a Matrix message: plain text always, cleaned HTML when there was
// markup beyond escaping.
MatrixText matrixTextOf(const std::string& markup);
// The same for a line someone wrote (an IM, a chat line): "/me does" is an emote "does".
MatrixText matrixLineOf(const std::string& markup);

// The parts of a stored room id "<prefix><network>/<owner>/<rest>" (im/…, chat/…): the
// rest is last and taken whole, so names holding '/' stay intact; a Matrix id has none.
struct RoomIdParts {
    std::string network;
    std::string owner;
    std::string rest;
};
std::optional<RoomIdParts> splitRoomId(std::string_view id, std::string_view prefix);

}  // namespace mxbridge::purple
