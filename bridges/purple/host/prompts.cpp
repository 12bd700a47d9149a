// SPDX-License-Identifier: GPL-2.0-or-later
#include "prompts.h"

#include <purple.h>

namespace mxbridge::purple::host {

namespace {

std::function<void(const char*, const std::string&)>* gReport = nullptr;

std::string describe(const char* kind, const char* title, const char* primary, const char* secondary) {
    std::string line = kind;
    for (const char* part : {title, primary, secondary})
        if (part && *part) line += std::string(" | ") + part;
    return line;
}

void report(const char* level, const std::string& text) {
    if (gReport && *gReport) (*gReport)(level, text);
}

// A prompt being cancelled: libpurple gets its handle first, the cancel comes from the
// loop right after (calling back from inside the request would free what the plugin is
// still holding).
struct PendingCancel {
    GCallback cancel;
    void* userData;
    guint source = 0;
    bool withFields = false;
    PurpleRequestFields* fields = nullptr;
};

gboolean runCancel(gpointer data) {
    auto* pending = static_cast<PendingCancel*>(data);
    pending->source = 0;
    // purple_request_close() ends the request and calls close_request, which frees `pending`.
    if (pending->cancel) {
        if (pending->withFields)
            reinterpret_cast<PurpleRequestFieldsCb>(pending->cancel)(pending->userData, pending->fields);
        else
            reinterpret_cast<void (*)(void*, const char*)>(pending->cancel)(pending->userData, nullptr);
    }
    purple_request_close(PURPLE_REQUEST_INPUT, pending);
    return G_SOURCE_REMOVE;
}

void* cancelLater(GCallback cancel, void* userData, PurpleRequestFields* fields = nullptr) {
    auto* pending = new PendingCancel{.cancel = cancel, .userData = userData, .source = 0,
                                      .withFields = fields != nullptr, .fields = fields};
    pending->source = g_idle_add(runCancel, pending);
    return pending;
}

void* requestInput(const char* title, const char* primary, const char* secondary, const char*, gboolean, gboolean,
                   gchar*, const char*, GCallback, const char*, GCallback cancel, PurpleAccount*, const char*,
                   PurpleConversation*, void* userData) {
    report("warning", describe("prompt cancelled (input)", title, primary, secondary));
    return cancelLater(cancel, userData);
}

void* requestChoice(const char* title, const char* primary, const char* secondary, int, const char*, GCallback,
                    const char*, GCallback cancel, PurpleAccount*, const char*, PurpleConversation*, void* userData,
                    va_list) {
    report("warning", describe("prompt cancelled (choice)", title, primary, secondary));
    // A choice's cancel takes (data, int): called with the data only, the int is unused by
    // the cancel callbacks libpurple's plugins pass.
    return cancelLater(cancel, userData);
}

void* requestAction(const char* title, const char* primary, const char* secondary, int, PurpleAccount*,
                    const char*, PurpleConversation*, void*, size_t, va_list) {
    report("warning", describe("prompt left unanswered (actions)", title, primary, secondary));
    return new PendingCancel{.cancel = nullptr, .userData = nullptr, .source = 0, .withFields = false, .fields = nullptr};
}

void* requestFields(const char* title, const char* primary, const char* secondary, PurpleRequestFields* fields,
                    const char*, GCallback, const char*, GCallback cancel, PurpleAccount*, const char*,
                    PurpleConversation*, void* userData) {
    report("warning", describe("prompt cancelled (fields)", title, primary, secondary));
    return cancelLater(cancel, userData, fields);
}

void* requestFile(const char* title, const char*, gboolean, GCallback, GCallback cancel, PurpleAccount*,
                  const char*, PurpleConversation*, void* userData) {
    report("warning", describe("prompt cancelled (file)", title, nullptr, nullptr));
    return cancelLater(cancel, userData);
}

void* requestFolder(const char* title, const char*, GCallback, GCallback cancel, PurpleAccount*, const char*,
                    PurpleConversation*, void* userData) {
    report("warning", describe("prompt cancelled (folder)", title, nullptr, nullptr));
    return cancelLater(cancel, userData);
}

void closeRequest(PurpleRequestType, void* handle) {
    auto* pending = static_cast<PendingCancel*>(handle);
    if (pending->source) g_source_remove(pending->source);
    delete pending;
}

void* notifyMessage(PurpleNotifyMsgType type, const char* title, const char* primary, const char* secondary) {
    report(type == PURPLE_NOTIFY_MSG_ERROR ? "error" : "warning", describe("notice", title, primary, secondary));
    return nullptr;
}

void* notifyFormatted(const char* title, const char* primary, const char* secondary, const char*) {
    report("warning", describe("notice", title, primary, secondary));
    return nullptr;
}

}  // namespace

void installPromptPolicy(std::function<void(const char*, const std::string&)> reportTo) {
    gReport = new std::function<void(const char*, const std::string&)>(std::move(reportTo));
    static PurpleRequestUiOps requestOps = {
        .request_input = requestInput,
        .request_choice = requestChoice,
        .request_action = requestAction,
        .request_fields = requestFields,
        .request_file = requestFile,
        .close_request = closeRequest,
        .request_folder = requestFolder,
        .request_action_with_icon = nullptr,
        .request_screenshare_media = nullptr,
        ._purple_reserved1 = nullptr,
        ._purple_reserved2 = nullptr,
    };
    purple_request_set_ui_ops(&requestOps);
    static PurpleNotifyUiOps notifyOps = {
        .notify_message = notifyMessage,
        .notify_email = nullptr,
        .notify_emails = nullptr,
        .notify_formatted = notifyFormatted,
        .notify_searchresults = nullptr,
        .notify_searchresults_new_rows = nullptr,
        .notify_userinfo = nullptr,
        .notify_uri = nullptr,
        .close_notify = nullptr,
        ._purple_reserved1 = nullptr,
        ._purple_reserved2 = nullptr,
        ._purple_reserved3 = nullptr,
        ._purple_reserved4 = nullptr,
    };
    purple_notify_set_ui_ops(&notifyOps);
}

}  // namespace mxbridge::purple::host
