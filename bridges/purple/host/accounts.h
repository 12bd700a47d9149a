// SPDX-License-Identifier: GPL-2.0-or-later
//
// The accounts one host carries, by the bridge's handle for each: login, logout and IMs
// asked over the wire, and what libpurple reports about them (signed on, connection errors,
// IMs received and sent, errors written to a conversation) sent back as events.
#pragma once

#include <purple.h>

#include <map>
#include <string>

#include "host_link.h"
#include "mxbridge/purple/messages.h"

namespace mxbridge::purple::host {

class Accounts {
public:
    explicit Accounts(HostLink& link);
    ~Accounts();
    Accounts(const Accounts&) = delete;
    Accounts& operator=(const Accounts&) = delete;

    // Connects libpurple's signals and conversation UI ops to this object. Once, after
    // libpurple is up.
    void attach();

    void login(const wire::Message& request);
    void logout(const wire::Message& request);
    void sendIm(const wire::Message& request);
    void sendTyping(const wire::Message& request);

    // The account with the bridge's handle `handle`, or nullptr.
    PurpleAccount* find(const std::string& handle) const;
    // The bridge's handle of an account, or nullptr for one it did not ask for.
    const std::string* handleOf(PurpleAccount* account) const;
    // `who` as the plugin normalises it (an XMPP bare JID, a folded IRC nick).
    static std::string normalized(PurpleAccount* account, const char* who);

private:
    struct Entry {
        PurpleAccount* account = nullptr;
        // Set when an account_disconnected went out for the current connection, so the
        // signed-off that follows a connection error is not reported twice.
        bool reportedDown = false;
    };

    // Disconnects and deletes an account libpurple holds.
    static void forget(PurpleAccount* account);
    Entry* entryOf(PurpleAccount* account);
    // Applies `settings` to `account` with the types the plugin declares; false and `error`
    // for a key the plugin does not have or a value that does not fit.
    static bool applySettings(PurpleAccount* account, PurplePlugin* plugin, const wire::Record& settings,
                              std::string& error);

    static void onSignedOn(PurpleConnection* gc, gpointer self);
    static void onSignedOff(PurpleConnection* gc, gpointer self);
    static void onConnectionError(PurpleConnection* gc, PurpleConnectionError reason, const char* text,
                                  gpointer self);
    static void onReceivedIm(PurpleAccount* account, char* sender, char* message, PurpleConversation* conv,
                             PurpleMessageFlags flags, gpointer self);
    static void onSentIm(PurpleAccount* account, const char* receiver, const char* message, gpointer self);
    void reportTyping(PurpleAccount* account, const char* who, const char* state);
    static void onTyping(PurpleAccount* account, const char* who, gpointer self);
    static void onTyped(PurpleAccount* account, const char* who, gpointer self);
    static void onTypingStopped(PurpleAccount* account, const char* who, gpointer self);
    static void writeConversation(PurpleConversation* conv, const char* who, const char* alias,
                                  const char* message, PurpleMessageFlags flags, time_t when);

    HostLink& link_;
    std::map<std::string, Entry> byHandle_;
};

// The conversation UI ops the host installs (Accounts::attach): IM and error lines here;
// Chats adds the chat members' ops to them.
PurpleConversationUiOps& conversationUiOps();

// libpurple's name for a connection error, as the wire says it ("authentication_failed").
const char* connectionErrorName(PurpleConnectionError reason);

}  // namespace mxbridge::purple::host
