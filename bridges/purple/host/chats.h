// SPDX-License-Identifier: GPL-2.0-or-later
//
// The chats (MUCs, IRC channels…) the host's accounts are in: join, leave and send asked
// over the wire, and what libpurple reports about them (joined, people arriving and
// leaving, messages, topics, left) sent back as events. Chats are named on the wire by
// their conversation name, as the plugin spells it.
#pragma once

#include <purple.h>

#include <string>

#include "accounts.h"
#include "host_link.h"
#include "mxbridge/purple/messages.h"

namespace mxbridge::purple::host {

class Chats {
public:
    Chats(HostLink& link, Accounts& accounts);
    ~Chats();
    Chats(const Chats&) = delete;
    Chats& operator=(const Chats&) = delete;

    // Connects libpurple's chat signals, and adds the chat members' ops to the conversation
    // UI ops Accounts::attach installed (so call it after that).
    void attach();

    void join(const wire::Message& request);
    void leave(const wire::Message& request);
    void send(const wire::Message& request);

private:
    // The connected account of a request, or nullptr after failing the request.
    PurpleAccount* accountFor(const wire::Message& request, const std::string& handle);
    // A joined chat of `account` named `chat`, or nullptr.
    static PurpleConversation* joined(PurpleAccount* account, const std::string& chat);
    // The handle of `conv`'s account, or nullptr when the bridge did not ask for it.
    const std::string* handleOf(PurpleConversation* conv) const;
    // Who `name` in `conv` is: their real identity when the plugin reveals it.
    static wire::ChatUser userOf(PurpleConversation* conv, const char* name, const char* alias);
    static bool isOwnName(PurpleConversation* conv, const char* name);

    static void onJoined(PurpleConversation* conv, gpointer self);
    static void onLeft(PurpleConversation* conv, gpointer self);
    static void onReceived(PurpleAccount* account, char* sender, char* message, PurpleConversation* conv,
                           PurpleMessageFlags flags, gpointer self);
    static gint onInvited(PurpleAccount* account, const char* inviter, const char* chat, const char* message,
                          GHashTable* components, gpointer self);
    static void onJoinFailed(PurpleConnection* gc, GHashTable* components, gpointer self);
    static void onTopicChanged(PurpleConversation* conv, const char* who, const char* topic, gpointer self);
    static void addUsers(PurpleConversation* conv, GList* chatBuddies, gboolean newArrivals);
    static void removeUsers(PurpleConversation* conv, GList* names);
    static void renameUser(PurpleConversation* conv, const char* oldName, const char* newName, const char* newAlias);

    HostLink& link_;
    Accounts& accounts_;
};

}  // namespace mxbridge::purple::host
