// SPDX-License-Identifier: GPL-2.0-or-later
#include "chats.h"

#include <ctime>

namespace mxbridge::purple::host {

namespace {

// Conversation UI ops are global in libpurple; the one Chats object of the host.
Chats* gChats = nullptr;

std::string text(const char* s) { return s ? s : ""; }

PurplePluginProtocolInfo* protocolOf(PurpleConnection* gc) {
    PurplePlugin* plugin = gc ? purple_connection_get_prpl(gc) : nullptr;
    return plugin ? PURPLE_PLUGIN_PROTOCOL_INFO(plugin) : nullptr;
}

}  // namespace

Chats::Chats(HostLink& link, Accounts& accounts) : link_(link), accounts_(accounts) {}

Chats::~Chats() {
    if (gChats == this) gChats = nullptr;
}

void Chats::attach() {
    gChats = this;
    PurpleConversationUiOps& ops = conversationUiOps();
    ops.chat_add_users = addUsers;
    ops.chat_remove_users = removeUsers;
    ops.chat_rename_user = renameUser;
    void* conversations = purple_conversations_get_handle();
    purple_signal_connect(conversations, "chat-joined", this, PURPLE_CALLBACK(onJoined), this);
    purple_signal_connect(conversations, "chat-left", this, PURPLE_CALLBACK(onLeft), this);
    purple_signal_connect(conversations, "received-chat-msg", this, PURPLE_CALLBACK(onReceived), this);
    purple_signal_connect(conversations, "chat-topic-changed", this, PURPLE_CALLBACK(onTopicChanged), this);
    purple_signal_connect(conversations, "chat-invited", this, PURPLE_CALLBACK(onInvited), this);
    purple_signal_connect(conversations, "chat-join-failed", this, PURPLE_CALLBACK(onJoinFailed), this);
}

PurpleAccount* Chats::accountFor(const wire::Message& request, const std::string& handle) {
    PurpleAccount* account = accounts_.find(handle);
    if (!account) {
        link_.fail(request, "unknown_account", "no account '" + handle + "' on this host");
        return nullptr;
    }
    if (!purple_account_is_connected(account)) {
        link_.fail(request, "not_connected", "account '" + handle + "' is not connected");
        return nullptr;
    }
    return account;
}

PurpleConversation* Chats::joined(PurpleAccount* account, const std::string& chat) {
    PurpleConversation* conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT, chat.c_str(), account);
    if (!conv || purple_conv_chat_has_left(PURPLE_CONV_CHAT(conv))) return nullptr;
    return conv;
}

void Chats::join(const wire::Message& request) {
    wire::JoinChat join = wire::JoinChat::fromRecord(request.body);
    PurpleAccount* account = accountFor(request, join.account);
    if (!account) return;
    PurpleConnection* gc = purple_account_get_connection(account);
    PurplePluginProtocolInfo* protocol = protocolOf(gc);
    if (!protocol || !protocol->join_chat || !protocol->chat_info_defaults) {
        link_.fail(request, "unsupported", "this protocol has no chats");
        return;
    }
    // The plugin reads what a user types ("room@server/nick", "#channel") into its fields.
    GHashTable* components = protocol->chat_info_defaults(gc, join.name.c_str());
    if (!components) {
        link_.fail(request, "bad_request", "the protocol cannot read '" + join.name + "' as a chat");
        return;
    }
    link_.reply(request, {});
    serv_join_chat(gc, components);
    g_hash_table_destroy(components);
}

void Chats::leave(const wire::Message& request) {
    wire::LeaveChat leave = wire::LeaveChat::fromRecord(request.body);
    PurpleAccount* account = accounts_.find(leave.account);
    if (!account) {
        link_.fail(request, "unknown_account", "no account '" + leave.account + "' on this host");
        return;
    }
    // Closing the conversation leaves the chat (libpurple tells the server).
    if (PurpleConversation* conv =
            purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT, leave.chat.c_str(), account))
        purple_conversation_destroy(conv);
    link_.reply(request, {});
}

void Chats::send(const wire::Message& request) {
    wire::SendChat message = wire::SendChat::fromRecord(request.body);
    PurpleAccount* account = accountFor(request, message.account);
    if (!account) return;
    PurpleConversation* conv = joined(account, message.chat);
    if (!conv) {
        link_.fail(request, "not_joined", "account '" + message.account + "' is not in " + message.chat);
        return;
    }
    purple_conv_chat_send(PURPLE_CONV_CHAT(conv), message.html.c_str());
    link_.reply(request, {});
}

const std::string* Chats::handleOf(PurpleConversation* conv) const {
    return accounts_.handleOf(purple_conversation_get_account(conv));
}

bool Chats::isOwnName(PurpleConversation* conv, const char* name) {
    PurpleAccount* account = purple_conversation_get_account(conv);
    const char* nick = purple_conv_chat_get_nick(PURPLE_CONV_CHAT(conv));
    if (!nick || !name) return false;
    return Accounts::normalized(account, nick) == Accounts::normalized(account, name);
}

wire::ChatUser Chats::userOf(PurpleConversation* conv, const char* name, const char* alias) {
    wire::ChatUser user{.name = text(name), .buddy = {}, .alias = text(alias)};
    if (user.alias == user.name) user.alias.clear();
    PurpleAccount* account = purple_conversation_get_account(conv);
    PurpleConnection* gc = purple_conversation_get_gc(conv);
    PurplePluginProtocolInfo* protocol = protocolOf(gc);
    if (protocol && protocol->get_cb_real_name) {
        // A MUC knows a nick's real JID only where the room shows it; else the nick is all.
        char* real = protocol->get_cb_real_name(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), name);
        if (real) user.buddy = Accounts::normalized(account, real);
        g_free(real);
    } else if (name) {
        user.buddy = Accounts::normalized(account, name);  // IRC: a nick is the person
    }
    return user;
}

void Chats::onJoined(PurpleConversation* conv, gpointer self) {
    auto* chats = static_cast<Chats*>(self);
    const std::string* handle = chats->handleOf(conv);
    if (!handle) return;
    PurpleConvChat* chat = PURPLE_CONV_CHAT(conv);
    chats->link_.emit(wire::ChatJoined{.account = *handle,
                                       .chat = text(purple_conversation_get_name(conv)),
                                       .title = text(purple_conversation_get_title(conv)),
                                       .topic = text(purple_conv_chat_get_topic(chat)),
                                       .nick = text(purple_conv_chat_get_nick(chat))});
}

void Chats::onLeft(PurpleConversation* conv, gpointer self) {
    auto* chats = static_cast<Chats*>(self);
    const std::string* handle = chats->handleOf(conv);
    if (!handle) return;
    chats->link_.emit(wire::ChatLeft{.account = *handle, .chat = text(purple_conversation_get_name(conv))});
}

void Chats::onReceived(PurpleAccount*, char* sender, char* message, PurpleConversation* conv,
                       PurpleMessageFlags flags, gpointer self) {
    auto* chats = static_cast<Chats*>(self);
    const std::string* handle = chats->handleOf(conv);
    if (!handle || !sender) return;
    // The alias libpurple shows for the sender in this chat, when it has one.
    const char* alias = nullptr;
    if (PurpleConvChatBuddy* buddy = purple_conv_chat_cb_find(PURPLE_CONV_CHAT(conv), sender))
        alias = buddy->alias;
    chats->link_.emit(wire::ChatReceived{.account = *handle,
                                         .chat = text(purple_conversation_get_name(conv)),
                                         .from = userOf(conv, sender, alias),
                                         .html = text(message),
                                         .timestamp = static_cast<std::int64_t>(std::time(nullptr)),
                                         .own = (flags & PURPLE_MESSAGE_SEND) != 0,
                                         .delayed = (flags & PURPLE_MESSAGE_DELAYED) != 0});
}

// Accepted: the owner says yes or no to the Matrix room's invitation (leaving it leaves the
// chat), which is where a Matrix user expects to decide.
gint Chats::onInvited(PurpleAccount* account, const char* inviter, const char* chat, const char* message,
                      GHashTable*, gpointer self) {
    auto* chats = static_cast<Chats*>(self);
    const std::string* handle = chats->accounts_.handleOf(account);
    if (!handle || !chat) return 0;  // not ours: libpurple asks, the prompt policy declines
    chats->link_.emit(wire::ChatInvited{.account = *handle, .chat = chat, .inviter = text(inviter),
                                        .message = text(message)});
    return 1;
}

void Chats::onJoinFailed(PurpleConnection* gc, GHashTable* components, gpointer self) {
    auto* chats = static_cast<Chats*>(self);
    const std::string* handle = chats->accounts_.handleOf(purple_connection_get_account(gc));
    if (!handle) return;
    std::string chat;
    PurplePluginProtocolInfo* protocol = protocolOf(gc);
    if (protocol && protocol->get_chat_name && components) {
        char* name = protocol->get_chat_name(components);
        chat = text(name);
        g_free(name);
    }
    chats->link_.emit(wire::ChatJoinFailed{.account = *handle, .chat = chat});
}

void Chats::onTopicChanged(PurpleConversation* conv, const char* who, const char* topic, gpointer self) {
    auto* chats = static_cast<Chats*>(self);
    const std::string* handle = chats->handleOf(conv);
    if (!handle) return;
    chats->link_.emit(wire::ChatTopic{.account = *handle,
                                      .chat = text(purple_conversation_get_name(conv)),
                                      .who = text(who),
                                      .topic = text(topic)});
}

void Chats::addUsers(PurpleConversation* conv, GList* chatBuddies, gboolean newArrivals) {
    if (!gChats) return;
    const std::string* handle = gChats->handleOf(conv);
    if (!handle) return;
    wire::ChatUsers users{.account = *handle, .chat = text(purple_conversation_get_name(conv)), .joined = true,
                          .initial = !newArrivals, .users = {}, .reason = {}};
    for (GList* item = chatBuddies; item; item = item->next) {
        auto* buddy = static_cast<PurpleConvChatBuddy*>(item->data);
        if (isOwnName(conv, buddy->name)) continue;  // the account itself is the Matrix owner
        users.users.push_back(userOf(conv, buddy->name, buddy->alias));
    }
    if (!users.users.empty()) gChats->link_.emit(users);
}

void Chats::removeUsers(PurpleConversation* conv, GList* names) {
    if (!gChats) return;
    const std::string* handle = gChats->handleOf(conv);
    if (!handle) return;
    wire::ChatUsers users{.account = *handle, .chat = text(purple_conversation_get_name(conv)), .joined = false,
                          .initial = false, .users = {}, .reason = {}};
    for (GList* item = names; item; item = item->next) {
        const char* name = static_cast<const char*>(item->data);
        if (isOwnName(conv, name)) continue;
        users.users.push_back(userOf(conv, name, nullptr));
    }
    if (!users.users.empty()) gChats->link_.emit(users);
}

// A nick change: the old name leaves, the new one arrives (a nick-only member is another
// ghost under the new nick).
void Chats::renameUser(PurpleConversation* conv, const char* oldName, const char* newName, const char* newAlias) {
    if (!gChats) return;
    const std::string* handle = gChats->handleOf(conv);
    if (!handle || isOwnName(conv, newName)) return;
    std::string chat = text(purple_conversation_get_name(conv));
    gChats->link_.emit(wire::ChatUsers{.account = *handle, .chat = chat, .joined = false, .initial = false,
                                       .users = {userOf(conv, oldName, nullptr)}, .reason = "renamed"});
    gChats->link_.emit(wire::ChatUsers{.account = *handle, .chat = chat, .joined = true, .initial = false,
                                       .users = {userOf(conv, newName, newAlias)}, .reason = {}});
}

}  // namespace mxbridge::purple::host
