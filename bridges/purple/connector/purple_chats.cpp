#include "purple_chats.h"

#include "im_mapping.h"

namespace mxbridge::purple {

namespace {

constexpr std::chrono::seconds kRequestTimeout{10};

}  // namespace

PurpleChats::PurpleChats(BridgeContext& context, HostPool& hosts, Logger log, AccountLookup account)
    : ctx_(context), hosts_(hosts), log_(std::move(log)), account_(std::move(account)) {}

void PurpleChats::addCommands(CommandRegistry& commands) {
    commands.add(Command{.name = "join",
                         .syntax = "<network> <chat>",
                         .help = "join a chat (an XMPP room as room@server[/nick], an IRC channel…) through your "
                                 "login on that network; its room invites you",
                         .permission = Permission::User,
                         .minArgs = 2,
                         .run = [this](CommandCall& call) { join(call); },
                         .roomArg = Command::kNoRoomArg});
}

std::string PurpleChats::rememberedPrefix(const std::string& handle) { return "purple/chat/" + handle + "/"; }

void PurpleChats::join(CommandCall& call) {
    const std::string& network = call.args[0];
    const std::string& name = call.args[1];
    std::string handle = accountHandleOf(call.sender.str(), network);
    auto account = account_(handle);
    if (!account) {
        call.reply("You have no " + network + " login; log in first: !login " + network);
        return;
    }
    if (!account->connected) {
        call.reply("Your " + network + " account is not connected (see !status); try again once it is.");
        return;
    }
    auto reply = call.reply;
    hosts_.request(handle, std::string(wire::JoinChat::kType), wire::JoinChat{.account = handle, .name = name}.toRecord(),
                   kRequestTimeout, [this, reply, handle, name, network](HostReply answer) {
                       if (!answer.ok) {
                           reply("Could not join " + name + ": " + answer.text);
                           return;
                       }
                       // Joined again whenever the account connects, until the room is left.
                       ctx_.kv().put(rememberedPrefix(handle) + name, name);
                       reply("Joining " + name + " on " + network + "; its room will invite you once you are in.");
                   });
}

void PurpleChats::onAccountConnected(const std::string& handle) {
    std::vector<std::pair<std::string, std::string>> remembered;
    try {
        remembered = ctx_.kv().list(rememberedPrefix(handle));
    } catch (const std::exception& e) {
        log_.error("could not read the chats to join again", {{"account", handle}, {"error", e.what()}});
        return;
    }
    for (const auto& [key, name] : remembered) {
        hosts_.request(handle, std::string(wire::JoinChat::kType),
                       wire::JoinChat{.account = handle, .name = name}.toRecord(), kRequestTimeout,
                       [this, handle, name](HostReply answer) {
                           if (!answer.ok)
                               log_.warn("could not join a chat again", {{"account", handle}, {"chat", name},
                                                                        {"error", answer.text}});
                       });
    }
}

bool PurpleChats::onHostEvent(const wire::Message& event) {
    if (event.type == wire::ChatJoined::kType)
        onJoined(wire::ChatJoined::fromRecord(event.body));
    else if (event.type == wire::ChatUsers::kType)
        onUsers(wire::ChatUsers::fromRecord(event.body));
    else if (event.type == wire::ChatReceived::kType)
        onReceived(wire::ChatReceived::fromRecord(event.body));
    else if (event.type == wire::ChatTopic::kType)
        onTopic(wire::ChatTopic::fromRecord(event.body));
    else if (event.type == wire::ChatLeft::kType)
        onLeft(wire::ChatLeft::fromRecord(event.body));
    else if (event.type == wire::ChatInvited::kType)
        onInvited(wire::ChatInvited::fromRecord(event.body));
    else if (event.type == wire::ChatJoinFailed::kType)
        onJoinFailed(wire::ChatJoinFailed::fromRecord(event.body));
    else
        return false;
    return true;
}

PortalInfo PurpleChats::portalOf(const AccountView& account, const std::string& chat) const {
    PortalInfo portal;
    portal.id = RemoteRoomId(chatRoomId(account.network, account.owner, chat));
    portal.name = chat;
    portal.topic = account.protocolName + " chat " + chat;
    portal.createIfMissing = true;
    portal.invite = {UserId(account.owner)};
    return portal;
}

RemoteSender PurpleChats::senderOf(const AccountView& account, const std::string& chat,
                                   const wire::ChatUser& user) const {
    std::string key = chatUserKey(chat, user);
    return RemoteSender{.id = RemoteUserId(remoteUserIdOf(account.network, key)),
                        .ghostId = ghostIdOf(account.network, key),
                        .displayName = user.alias.empty() ? user.name : user.alias,
                        .avatarMxc = std::nullopt};
}

void PurpleChats::onJoined(const wire::ChatJoined& joined) {
    auto account = account_(joined.account);
    if (!account) return;
    PortalInfo portal = portalOf(*account, joined.chat);
    if (!joined.title.empty()) portal.name = joined.title;
    std::string inviter;
    {
        std::lock_guard lock(mutex_);
        titles_[portal.id.str()] = portal.name;
        leaving_.erase(portal.id.str());
        if (auto it = inviters_.find(portal.id.str()); it != inviters_.end()) {
            inviter = it->second;
            inviters_.erase(it);
        }
    }
    log_.info("joined a chat", {{"account", joined.account}, {"chat", joined.chat}});
    if (!ctx_.links().forRemote(portal.id).empty()) return;  // joined again: the room is there
    // The first thing in the new room, from the bot: it creates the room and invites the
    // owner, and the members and lines that follow wait for it.
    RemoteMessage notice;
    notice.portal = portal;
    notice.sender = RemoteSender{};
    notice.id = RemoteMessageId("chat/" + account->network + "/" + joined.chat + "/joined-" + std::to_string(++messages_));
    notice.kind = MessageKind::Notice;
    notice.body = (inviter.empty() ? "You joined " : inviter + " invited you to ") + joined.chat + " on " +
                  account->protocolName + (joined.nick.empty() ? "" : "; you are in it as " + joined.nick) +
                  ". What you write here goes to the chat; leave this room to leave it.";
    ctx_.queueRemote(std::move(notice));
    if (!joined.topic.empty())
        ctx_.queueRemote(RemoteRoomUpdate{.room = portal.id, .actor = std::nullopt, .name = std::nullopt,
                                          .topic = joined.topic});
}

void PurpleChats::onUsers(const wire::ChatUsers& users) {
    auto account = account_(users.account);
    if (!account) return;
    RemoteRoomId room(chatRoomId(account->network, account->owner, users.chat));
    for (const auto& user : users.users) {
        ctx_.queueRemote(RemoteMembership{
            .room = room,
            .user = senderOf(*account, users.chat, user),
            .change = users.joined ? RemoteMembership::Change::Join : RemoteMembership::Change::Leave,
            .actor = std::nullopt,
            .reason = users.reason});
    }
}

void PurpleChats::onReceived(const wire::ChatReceived& received) {
    // Our own lines come back from the chat: they are in Matrix already. History replayed
    // on joining is not bridged (yet): after a host restart it would repeat lines.
    if (received.own || received.delayed) return;
    auto account = account_(received.account);
    if (!account) return;
    PortalInfo portal = portalOf(*account, received.chat);
    {
        std::lock_guard lock(mutex_);
        if (auto it = titles_.find(portal.id.str()); it != titles_.end()) portal.name = it->second;
    }
    MatrixText text = matrixLineOf(received.html);
    RemoteMessage message;
    message.portal = std::move(portal);
    message.sender = senderOf(*account, received.chat, received.from);
    message.id = RemoteMessageId("chat/" + account->network + "/" + received.chat + "/" +
                                 std::to_string(received.timestamp) + "-" + std::to_string(++messages_));
    message.kind = text.emote ? MessageKind::Emote : MessageKind::Text;
    message.body = text.body;
    message.html = text.html;
    ctx_.queueRemote(std::move(message));
}

void PurpleChats::onTopic(const wire::ChatTopic& topic) {
    auto account = account_(topic.account);
    if (!account) return;
    // Set by the bot: a nick-only member's ghost may lack the power to.
    ctx_.queueRemote(RemoteRoomUpdate{.room = RemoteRoomId(chatRoomId(account->network, account->owner, topic.chat)),
                                      .actor = std::nullopt,
                                      .name = std::nullopt,
                                      .topic = topic.topic});
}

void PurpleChats::onLeft(const wire::ChatLeft& left) {
    auto account = account_(left.account);
    if (!account) return;
    RemoteRoomId room(chatRoomId(account->network, account->owner, left.chat));
    {
        std::lock_guard lock(mutex_);
        if (leaving_.erase(room.str()) > 0) return;  // the owner left from Matrix
    }
    log_.info("no longer in a chat", {{"account", left.account}, {"chat", left.chat}});
    auto links = ctx_.links().forRemote(room);
    OutgoingMessage notice;
    notice.kind = MessageKind::Notice;
    notice.body = "You are no longer in " + left.chat + " (left or removed there); !join " + account->network + " " +
                  left.chat + " joins it again.";
    for (const Link& link : links) ctx_.bot().sendMessage(link.room, notice);
}

void PurpleChats::onInvited(const wire::ChatInvited& invited) {
    auto account = account_(invited.account);
    if (!account) return;
    // The host accepted; the room's invitation is the owner's yes or no. Joined again on
    // reconnects like a !join, until the owner leaves the room.
    {
        std::lock_guard lock(mutex_);
        inviters_[chatRoomId(account->network, account->owner, invited.chat)] =
            invited.inviter.empty() ? "Someone" : invited.inviter;
    }
    log_.info("invited to a chat", {{"account", invited.account}, {"chat", invited.chat}, {"inviter", invited.inviter}});
    try {
        ctx_.kv().put(rememberedPrefix(invited.account) + invited.chat, invited.chat);
    } catch (const std::exception& e) {
        log_.error("could not remember a chat", {{"account", invited.account}, {"error", e.what()}});
    }
}

void PurpleChats::onJoinFailed(const wire::ChatJoinFailed& failed) {
    auto account = account_(failed.account);
    if (!account) return;
    log_.warn("the server refused a chat join", {{"account", failed.account}, {"chat", failed.chat}});
    // Not tried again on every reconnect: the owner hears of it and decides.
    if (!failed.chat.empty()) forget(failed.account, failed.chat);
    std::string chat = failed.chat.empty() ? "a chat" : failed.chat;
    ctx_.tellUser(UserId(account->owner),
                  "Could not join " + chat + " on " + account->protocolName +
                      ": the server refused (a nickname already in use there, a members-only or full room…; the "
                      "bridge's log has the server's words). !join " + account->network + " " +
                      (failed.chat.empty() ? "<chat>" : failed.chat) +
                      " tries again; for an XMPP room, room@server/<nick> picks another nickname.");
}

void PurpleChats::forget(const std::string& handle, const std::string& chat) {
    try {
        for (const auto& [key, name] : ctx_.kv().list(rememberedPrefix(handle)))
            if (namesChat(name, chat)) ctx_.kv().erase(key);
    } catch (const std::exception& e) {
        log_.error("could not forget a chat", {{"account", handle}, {"chat", chat}, {"error", e.what()}});
    }
}

HookResult PurpleChats::send(const MatrixMessage& message, const ChatRoom& room) {
    // Only the owner speaks through their account.
    if (room.owner != message.sender.str()) return HookResult::ignored();
    std::string handle = accountHandleOf(room.owner, room.network);
    auto account = account_(handle);
    if (!account || !account->connected)
        return HookResult::failed(
            Error::transient("not_connected", "your " + room.network + " account is not connected (see !status)"));
    bool emote = message.kind == MessageKind::Emote;
    std::string markup = purpleMarkupOf(emote ? "/me " + message.body : message.body,
                                        emote ? std::nullopt : message.html);
    RoomId matrixRoom = message.room;
    EventId event = message.event.eventId();
    hosts_.request(handle, std::string(wire::SendChat::kType),
                   wire::SendChat{.account = handle, .chat = room.chat, .html = markup}.toRecord(), kRequestTimeout,
                   [this, matrixRoom, event](HostReply reply) {
                       if (reply.ok) return;
                       ctx_.reportDeliveryFailure(matrixRoom, event,
                                                  Error::permanent(reply.code, "libpurple did not take it: " + reply.text));
                   });
    return HookResult::delivered(RemoteMessageId("m/" + event.str()));
}

HookResult PurpleChats::onOwnerLeft(const MatrixMembership& change, const ChatRoom& room) {
    std::string handle = accountHandleOf(room.owner, room.network);
    RemoteRoomId remote(chatRoomId(room.network, room.owner, room.chat));
    {
        std::lock_guard lock(mutex_);
        leaving_[remote.str()] = true;
        titles_.erase(remote.str());
    }
    forget(handle, room.chat);
    ctx_.links().unlink(change.room, remote);
    hosts_.request(handle, std::string(wire::LeaveChat::kType),
                   wire::LeaveChat{.account = handle, .chat = room.chat}.toRecord(), kRequestTimeout,
                   [this, handle, chat = room.chat](HostReply reply) {
                       if (!reply.ok)
                           log_.warn("could not leave a chat", {{"account", handle}, {"chat", chat},
                                                                {"error", reply.text}});
                   });
    log_.info("left a chat from Matrix", {{"account", handle}, {"chat", room.chat}});
    return HookResult::delivered();
}

}  // namespace mxbridge::purple
