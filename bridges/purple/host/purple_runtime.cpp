// SPDX-License-Identifier: GPL-2.0-or-later
#include "purple_runtime.h"

#include <glib.h>
#include <purple.h>
#include <sys/stat.h>

#include <cstdio>

namespace mxbridge::purple::host {

namespace {

RuntimeOptions* gOptions = nullptr;

// ----- the event loop: libpurple's timers and sockets as GLib sources -----

struct InputWatch {
    PurpleInputFunction function;
    gpointer data;
};

constexpr GIOCondition kReadConditions = static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR);
constexpr GIOCondition kWriteConditions = static_cast<GIOCondition>(G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL);

gboolean dispatchInput(GIOChannel* channel, GIOCondition condition, gpointer data) {
    auto* watch = static_cast<InputWatch*>(data);
    int purpleCondition = 0;
    if (condition & kReadConditions) purpleCondition |= PURPLE_INPUT_READ;
    if (condition & kWriteConditions) purpleCondition |= PURPLE_INPUT_WRITE;
    watch->function(watch->data, g_io_channel_unix_get_fd(channel), static_cast<PurpleInputCondition>(purpleCondition));
    return TRUE;
}

void freeInput(gpointer data) { delete static_cast<InputWatch*>(data); }

guint addInput(gint fd, PurpleInputCondition condition, PurpleInputFunction function, gpointer data) {
    int glibCondition = 0;
    if (condition & PURPLE_INPUT_READ) glibCondition |= kReadConditions;
    if (condition & PURPLE_INPUT_WRITE) glibCondition |= kWriteConditions;
    GIOChannel* channel = g_io_channel_unix_new(fd);
    guint id = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, static_cast<GIOCondition>(glibCondition),
                                   dispatchInput, new InputWatch{function, data}, freeInput);
    g_io_channel_unref(channel);  // the watch holds its own reference
    return id;
}

PurpleEventLoopUiOps eventLoopOps = {
    .timeout_add = g_timeout_add,
    .timeout_remove = g_source_remove,
    .input_add = addInput,
    .input_remove = g_source_remove,
    .input_get_error = nullptr,
    .timeout_add_seconds = g_timeout_add_seconds,
    ._purple_reserved2 = nullptr,
    ._purple_reserved3 = nullptr,
    ._purple_reserved4 = nullptr,
};

// ----- debug output: warnings and above reach the sink, the rest is dropped -----

const char* levelName(PurpleDebugLevel level) {
    switch (level) {
        case PURPLE_DEBUG_WARNING: return "warning";
        case PURPLE_DEBUG_ERROR: return "error";
        case PURPLE_DEBUG_FATAL: return "fatal";
        default: return "info";
    }
}

void printDebug(PurpleDebugLevel level, const char* category, const char* text) {
    if (level < PURPLE_DEBUG_WARNING || !gOptions || !gOptions->logSink) return;
    std::string line = text ? text : "";
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    gOptions->logSink(levelName(level), category ? category : "", line);
}

gboolean debugEnabled(PurpleDebugLevel level, const char*) { return level >= PURPLE_DEBUG_WARNING; }

PurpleDebugUiOps debugOps = {
    .print = printDebug,
    .is_enabled = debugEnabled,
    ._purple_reserved1 = nullptr,
    ._purple_reserved2 = nullptr,
    ._purple_reserved3 = nullptr,
    ._purple_reserved4 = nullptr,
};

// ----- core -----

GHashTable* uiInfo() {
    static GHashTable* info = nullptr;
    if (!info) {
        info = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(info, const_cast<char*>("name"), const_cast<char*>("mxbridge-purple-host"));
        g_hash_table_insert(info, const_cast<char*>("client_type"), const_cast<char*>("bot"));
    }
    return info;
}

PurpleCoreUiOps coreOps = {
    .ui_prefs_init = nullptr,
    .debug_ui_init = nullptr,
    .ui_init = nullptr,
    .quit = nullptr,
    .get_ui_info = uiInfo,
    ._purple_reserved1 = nullptr,
    ._purple_reserved2 = nullptr,
    ._purple_reserved3 = nullptr,
};

}  // namespace

bool startLibpurple(const RuntimeOptions& options, std::string& error) {
    gOptions = new RuntimeOptions(options);
    g_mkdir_with_parents(options.userDir.c_str(), 0700);
    purple_util_set_user_dir(options.userDir.c_str());
    // libpurple's own printing to stdout stays off; the UI ops above see what matters.
    purple_debug_set_enabled(FALSE);
    purple_debug_set_ui_ops(&debugOps);
    purple_core_set_ui_ops(&coreOps);
    purple_eventloop_set_ui_ops(&eventLoopOps);
    for (const auto& dir : options.pluginDirs) purple_plugins_add_search_path(dir.c_str());
    if (!purple_core_init(kUiId)) {
        error = "purple_core_init failed (another libpurple UI in this process, or no plugins)";
        return false;
    }
    // A bridge never writes conversation logs (the host's folder would fill with them).
    for (const char* pref : {"/purple/logging/log_ims", "/purple/logging/log_chats", "/purple/logging/log_system"})
        purple_prefs_set_bool(pref, FALSE);
    // A fresh buddy list in this host's folder: the bridge keeps what matters itself.
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    // Accounts connect when enabled while the global status is an online one.
    purple_savedstatus_activate(purple_savedstatus_new(nullptr, PURPLE_STATUS_AVAILABLE));
    return true;
}

void stopLibpurple() { purple_core_quit(); }

}  // namespace mxbridge::purple::host
