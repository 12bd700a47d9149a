// SPDX-License-Identifier: GPL-2.0-or-later
#include "accounts.h"

#include <cstdlib>
#include <ctime>

#include "protocols.h"
#include "purple_runtime.h"

namespace mxbridge::purple::host {

namespace {

// Conversation UI ops are global in libpurple; the one Accounts object of the host.
Accounts* gAccounts = nullptr;

std::string text(const char* s) { return s ? s : ""; }

// The IM and chat writes are reported through signals (received-im-msg, sent-im-msg);
// these ops exist so libpurple does not route every line through write_conv, which
// carries the errors and system lines the bridge must hear about.
void ignoreWrite(PurpleConversation*, const char*, const char*, PurpleMessageFlags, time_t) {}

}  // namespace

const char* connectionErrorName(PurpleConnectionError reason) {
    switch (reason) {
        case PURPLE_CONNECTION_ERROR_NETWORK_ERROR: return "network_error";
        case PURPLE_CONNECTION_ERROR_INVALID_USERNAME: return "invalid_username";
        case PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED: return "authentication_failed";
        case PURPLE_CONNECTION_ERROR_AUTHENTICATION_IMPOSSIBLE: return "authentication_impossible";
        case PURPLE_CONNECTION_ERROR_NO_SSL_SUPPORT: return "no_ssl_support";
        case PURPLE_CONNECTION_ERROR_ENCRYPTION_ERROR: return "encryption_error";
        case PURPLE_CONNECTION_ERROR_NAME_IN_USE: return "name_in_use";
        case PURPLE_CONNECTION_ERROR_INVALID_SETTINGS: return "invalid_settings";
        case PURPLE_CONNECTION_ERROR_CERT_NOT_PROVIDED: return "cert_not_provided";
        case PURPLE_CONNECTION_ERROR_CERT_UNTRUSTED: return "cert_untrusted";
        case PURPLE_CONNECTION_ERROR_CERT_EXPIRED: return "cert_expired";
        case PURPLE_CONNECTION_ERROR_CERT_NOT_ACTIVATED: return "cert_not_activated";
        case PURPLE_CONNECTION_ERROR_CERT_HOSTNAME_MISMATCH: return "cert_hostname_mismatch";
        case PURPLE_CONNECTION_ERROR_CERT_FINGERPRINT_MISMATCH: return "cert_fingerprint_mismatch";
        case PURPLE_CONNECTION_ERROR_CERT_SELF_SIGNED: return "cert_self_signed";
        case PURPLE_CONNECTION_ERROR_CERT_OTHER_ERROR: return "cert_other_error";
        case PURPLE_CONNECTION_ERROR_OTHER_ERROR: return "other_error";
    }
    return "other_error";
}

PurpleConversationUiOps& conversationUiOps() {
    // libpurple keeps the pointer and reads each op when it needs it.
    static PurpleConversationUiOps ops{};
    return ops;
}

Accounts::Accounts(HostLink& link) : link_(link) {}

Accounts::~Accounts() {
    if (gAccounts == this) gAccounts = nullptr;
}

void Accounts::attach() {
    gAccounts = this;
    PurpleConversationUiOps& ops = conversationUiOps();
    ops.write_chat = ignoreWrite;
    ops.write_im = ignoreWrite;
    ops.write_conv = writeConversation;
    purple_conversations_set_ui_ops(&ops);
    void* connections = purple_connections_get_handle();
    purple_signal_connect(connections, "signed-on", this, PURPLE_CALLBACK(onSignedOn), this);
    purple_signal_connect(connections, "signed-off", this, PURPLE_CALLBACK(onSignedOff), this);
    purple_signal_connect(connections, "connection-error", this, PURPLE_CALLBACK(onConnectionError), this);
    void* conversations = purple_conversations_get_handle();
    purple_signal_connect(conversations, "received-im-msg", this, PURPLE_CALLBACK(onReceivedIm), this);
    purple_signal_connect(conversations, "sent-im-msg", this, PURPLE_CALLBACK(onSentIm), this);
    purple_signal_connect(conversations, "buddy-typing", this, PURPLE_CALLBACK(onTyping), this);
    purple_signal_connect(conversations, "buddy-typed", this, PURPLE_CALLBACK(onTyped), this);
    purple_signal_connect(conversations, "buddy-typing-stopped", this, PURPLE_CALLBACK(onTypingStopped), this);
}

const std::string* Accounts::handleOf(PurpleAccount* account) const {
    for (const auto& [handle, entry] : byHandle_)
        if (entry.account == account) return &handle;
    return nullptr;
}

PurpleAccount* Accounts::find(const std::string& handle) const {
    auto it = byHandle_.find(handle);
    return it == byHandle_.end() ? nullptr : it->second.account;
}

Accounts::Entry* Accounts::entryOf(PurpleAccount* account) {
    for (auto& [handle, entry] : byHandle_)
        if (entry.account == account) return &entry;
    return nullptr;
}

bool Accounts::applySettings(PurpleAccount* account, PurplePlugin* plugin, const wire::Record& settings,
                             std::string& error) {
    for (const auto& field : settings.fields()) {
        PurpleAccountOption* option = findOption(plugin, field.key);
        if (!option) {
            error = "the protocol has no option '" + field.key + "'";
            return false;
        }
        const wire::Value& value = field.value;
        // The bridge may send what a user typed as text; it is read with the option's type.
        const std::string* asText = value.asString();
        switch (purple_account_option_get_type(option)) {
            case PURPLE_PREF_BOOLEAN: {
                bool b;
                if (const bool* v = value.asBoolean())
                    b = *v;
                else if (asText && (*asText == "true" || *asText == "false"))
                    b = *asText == "true";
                else {
                    error = "option '" + field.key + "' takes true or false";
                    return false;
                }
                purple_account_set_bool(account, field.key.c_str(), b);
                break;
            }
            case PURPLE_PREF_INT: {
                std::int64_t i;
                if (const std::int64_t* v = value.asInteger())
                    i = *v;
                else if (asText && !asText->empty()) {
                    char* end = nullptr;
                    i = std::strtoll(asText->c_str(), &end, 10);
                    if (*end != '\0') {
                        error = "option '" + field.key + "' takes a number";
                        return false;
                    }
                } else {
                    error = "option '" + field.key + "' takes a number";
                    return false;
                }
                if (i < INT32_MIN || i > INT32_MAX) {
                    error = "option '" + field.key + "' is out of range";
                    return false;
                }
                purple_account_set_int(account, field.key.c_str(), static_cast<int>(i));
                break;
            }
            default: {
                if (!asText) {
                    error = "option '" + field.key + "' takes text";
                    return false;
                }
                purple_account_set_string(account, field.key.c_str(), asText->c_str());
                break;
            }
        }
    }
    return true;
}

void Accounts::login(const wire::Message& request) {
    wire::Login login = wire::Login::fromRecord(request.body);
    PurplePlugin* plugin = purple_find_prpl(login.protocol.c_str());
    if (!plugin) {
        link_.fail(request, "unknown_protocol", "this machine's libpurple has no protocol '" + login.protocol + "'");
        return;
    }
    // A login for a handle this host already carries replaces it (the bridge logging an
    // account in again after a drop, with what may be a new password).
    if (auto known = byHandle_.find(login.account); known != byHandle_.end()) {
        PurpleAccount* old = known->second.account;
        byHandle_.erase(known);
        forget(old);
    }
    PurpleAccount* account = purple_accounts_find(login.username.c_str(), login.protocol.c_str());
    if (account && handleOf(account)) {
        link_.fail(request, "bad_request", "another handle already uses " + login.username);
        return;
    }
    if (!account) {
        account = purple_account_new(login.username.c_str(), login.protocol.c_str());
        purple_accounts_add(account);
    }
    std::string error;
    if (!applySettings(account, plugin, login.settings, error)) {
        purple_accounts_delete(account);
        link_.fail(request, "bad_request", error);
        return;
    }
    // The password lives in this process's memory only: libpurple is told never to write
    // it to accounts.xml.
    purple_account_set_remember_password(account, FALSE);
    purple_account_set_password(account, login.password.empty() ? nullptr : login.password.c_str());
    byHandle_[login.account] = Entry{.account = account, .reportedDown = false};
    link_.reply(request, {});
    purple_account_set_enabled(account, kUiId, TRUE);
    if (purple_account_is_disconnected(account)) purple_account_connect(account);
}

void Accounts::logout(const wire::Message& request) {
    wire::Logout logout = wire::Logout::fromRecord(request.body);
    auto it = byHandle_.find(logout.account);
    if (it == byHandle_.end()) {
        link_.fail(request, "unknown_account", "no account '" + logout.account + "' on this host");
        return;
    }
    PurpleAccount* account = it->second.account;
    byHandle_.erase(it);  // first, so the signed-off that follows is not reported
    forget(account);
    link_.reply(request, {});
}

void Accounts::forget(PurpleAccount* account) {
    purple_account_set_enabled(account, kUiId, FALSE);
    purple_account_disconnect(account);
    purple_accounts_delete(account);
}

std::string Accounts::normalized(PurpleAccount* account, const char* who) {
    const char* name = purple_normalize(account, who);
    return name ? name : who;
}

void Accounts::sendIm(const wire::Message& request) {
    wire::SendIm im = wire::SendIm::fromRecord(request.body);
    auto it = byHandle_.find(im.account);
    if (it == byHandle_.end()) {
        link_.fail(request, "unknown_account", "no account '" + im.account + "' on this host");
        return;
    }
    PurpleAccount* account = it->second.account;
    if (!purple_account_is_connected(account)) {
        link_.fail(request, "not_connected", "account '" + im.account + "' is not connected");
        return;
    }
    PurpleConversation* conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, im.who.c_str(), account);
    if (!conv) conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, im.who.c_str());
    purple_conv_im_send(PURPLE_CONV_IM(conv), im.html.c_str());
    link_.reply(request, {});
}

void Accounts::sendTyping(const wire::Message& request) {
    wire::SendTyping typing = wire::SendTyping::fromRecord(request.body);
    auto it = byHandle_.find(typing.account);
    if (it == byHandle_.end()) {
        link_.fail(request, "unknown_account", "no account '" + typing.account + "' on this host");
        return;
    }
    PurpleConnection* gc = purple_account_get_connection(it->second.account);
    if (!gc || !purple_account_is_connected(it->second.account)) {
        link_.fail(request, "not_connected", "account '" + typing.account + "' is not connected");
        return;
    }
    // Plugins send it only where the buddy understands it (XMPP: a resource that announced
    // chat states); the reply says libpurple was told, not that the buddy saw it.
    serv_send_typing(gc, typing.who.c_str(), typing.typing ? PURPLE_TYPING : PURPLE_NOT_TYPING);
    link_.reply(request, {});
}

void Accounts::reportTyping(PurpleAccount* account, const char* who, const char* state) {
    const std::string* handle = handleOf(account);
    if (!handle || !who) return;
    link_.emit(wire::Typing{.account = *handle, .who = who, .buddy = normalized(account, who), .state = state});
}

void Accounts::onTyping(PurpleAccount* account, const char* who, gpointer self) {
    static_cast<Accounts*>(self)->reportTyping(account, who, "typing");
}

void Accounts::onTyped(PurpleAccount* account, const char* who, gpointer self) {
    static_cast<Accounts*>(self)->reportTyping(account, who, "paused");
}

void Accounts::onTypingStopped(PurpleAccount* account, const char* who, gpointer self) {
    static_cast<Accounts*>(self)->reportTyping(account, who, "stopped");
}

void Accounts::onSignedOn(PurpleConnection* gc, gpointer self) {
    auto* accounts = static_cast<Accounts*>(self);
    PurpleAccount* account = purple_connection_get_account(gc);
    Entry* entry = accounts->entryOf(account);
    if (!entry) return;
    entry->reportedDown = false;
    accounts->link_.emit(wire::AccountConnected{.account = *accounts->handleOf(account)});
}

void Accounts::onConnectionError(PurpleConnection* gc, PurpleConnectionError reason, const char* text,
                                 gpointer self) {
    auto* accounts = static_cast<Accounts*>(self);
    PurpleAccount* account = purple_connection_get_account(gc);
    Entry* entry = accounts->entryOf(account);
    if (!entry) return;
    entry->reportedDown = true;
    // libpurple's own reading: a network error may pass, a refused password will not.
    accounts->link_.emit(wire::AccountDisconnected{.account = *accounts->handleOf(account),
                                                   .reason = connectionErrorName(reason),
                                                   .retryable = !purple_connection_error_is_fatal(reason),
                                                   .text = host::text(text)});
}

void Accounts::onSignedOff(PurpleConnection* gc, gpointer self) {
    auto* accounts = static_cast<Accounts*>(self);
    PurpleAccount* account = purple_connection_get_account(gc);
    Entry* entry = accounts->entryOf(account);
    if (!entry || entry->reportedDown) return;
    entry->reportedDown = true;
    accounts->link_.emit(wire::AccountDisconnected{.account = *accounts->handleOf(account),
                                                   .reason = "signed_off",
                                                   .retryable = true,
                                                   .text = "signed off"});
}

void Accounts::onReceivedIm(PurpleAccount* account, char* sender, char* message, PurpleConversation*,
                            PurpleMessageFlags, gpointer self) {
    auto* accounts = static_cast<Accounts*>(self);
    const std::string* handle = accounts->handleOf(account);
    if (!handle || !sender) return;
    std::string alias;
    if (PurpleBuddy* buddy = purple_find_buddy(account, sender)) {
        alias = text(purple_buddy_get_contact_alias(buddy));
        if (alias == sender) alias.clear();
    }
    accounts->link_.emit(wire::ImReceived{.account = *handle,
                                          .who = sender,
                                          .buddy = normalized(account, sender),
                                          .alias = alias,
                                          .html = text(message),
                                          .timestamp = static_cast<std::int64_t>(std::time(nullptr))});
}

void Accounts::onSentIm(PurpleAccount* account, const char* receiver, const char* message, gpointer self) {
    auto* accounts = static_cast<Accounts*>(self);
    const std::string* handle = accounts->handleOf(account);
    if (!handle || !receiver) return;
    accounts->link_.emit(wire::ImSent{.account = *handle,
                                      .who = receiver,
                                      .buddy = normalized(account, receiver),
                                      .html = text(message),
                                      .timestamp = static_cast<std::int64_t>(std::time(nullptr))});
}

void Accounts::writeConversation(PurpleConversation* conv, const char* who, const char*, const char* message,
                                 PurpleMessageFlags flags, time_t) {
    if (!gAccounts || !(flags & PURPLE_MESSAGE_ERROR)) return;
    const std::string* handle = gAccounts->handleOf(purple_conversation_get_account(conv));
    if (!handle) return;
    std::string peer = who ? who : text(purple_conversation_get_name(conv));
    gAccounts->link_.emit(wire::WriteFailed{.account = *handle,
                                            .who = peer,
                                            .buddy = normalized(purple_conversation_get_account(conv), peer.c_str()),
                                            .text = text(message)});
}

}  // namespace mxbridge::purple::host
