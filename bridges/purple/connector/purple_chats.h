// libpurple chats (XMPP MUCs, IRC channels…) as Matrix rooms: `!join <network> <chat>`
// joins one through the user's own account, the chat becomes a room that invites them, its
// people are ghosts that join and leave with them, messages go both ways, the topic
// follows, and leaving the room leaves the chat. Joined chats are remembered and joined
// again whenever the account connects (after a host restart too).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "chat_mapping.h"
#include "host_pool.h"
#include "mxbridge/connector.h"

namespace mxbridge::purple {

class PurpleChats {
public:
    // What this class needs to know of an account (owned by the connector).
    struct AccountView {
        std::string owner;
        std::string network;
        std::string protocolName;  // "XMPP"
        bool connected = false;
    };
    using AccountLookup = std::function<std::optional<AccountView>(const std::string& handle)>;

    PurpleChats(BridgeContext& context, HostPool& hosts, Logger log, AccountLookup account);

    // Adds !join.
    void addCommands(CommandRegistry& commands);

    // A chat event from a host; false when `event` is not about chats.
    bool onHostEvent(const wire::Message& event);
    // The account is (again) connected: the chats its owner joined are joined again.
    void onAccountConnected(const std::string& handle);

    // The owner's message in a chat's room, to the chat; others in the room are ignored.
    HookResult send(const MatrixMessage& message, const ChatRoom& room);
    // The owner left the chat's room: the account leaves the chat, which is forgotten.
    HookResult onOwnerLeft(const MatrixMembership& change, const ChatRoom& room);

private:
    void join(CommandCall& call);
    void onJoined(const wire::ChatJoined& joined);
    void onUsers(const wire::ChatUsers& users);
    void onReceived(const wire::ChatReceived& message);
    void onTopic(const wire::ChatTopic& topic);
    void onLeft(const wire::ChatLeft& left);
    void onInvited(const wire::ChatInvited& invited);
    void onJoinFailed(const wire::ChatJoinFailed& failed);
    // Forgets the remembered joins of `handle` that name `chat`.
    void forget(const std::string& handle, const std::string& chat);

    PortalInfo portalOf(const AccountView& account, const std::string& chat) const;
    RemoteSender senderOf(const AccountView& account, const std::string& chat, const wire::ChatUser& user) const;
    // The key/value prefix under which an account's joined chats are kept, as typed.
    static std::string rememberedPrefix(const std::string& handle);

    BridgeContext& ctx_;
    HostPool& hosts_;
    Logger log_;
    AccountLookup account_;
    std::mutex mutex_;
    std::map<std::string, std::string> titles_;  // by chat room id: the chat's title, once joined
    std::map<std::string, bool> leaving_;        // chat room ids the owner left from Matrix
    std::map<std::string, std::string> inviters_;  // by chat room id: who invited the owner, until joined
    std::atomic<std::uint64_t> messages_{0};
};

}  // namespace mxbridge::purple
