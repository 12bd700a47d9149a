// SPDX-License-Identifier: GPL-2.0-or-later
// (a libpurple plugin, so licensed like libpurple)
//
// prpl-mxbridge-crashtest: a protocol plugin that exists only for the libpurple bridge's
// isolation tests. An account signs on at once and a buddy named "echo" greets it; every IM
// to a buddy is echoed back ("echo: <text>"), except that an IM holding "segfault" crashes
// the process and one holding "hang" stops its main loop for good. Never installed.
#include <glib.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <ctime>

#define PURPLE_PLUGINS
#include <purple.h>

namespace {

struct Echo {
    PurpleAccount *account;
    char *who;
    char *text;
};

gboolean deliver_echo(gpointer data) {
    auto* echo = static_cast<Echo*>(data);
    PurpleConnection *gc = purple_account_get_connection(echo->account);
    if (gc != nullptr && purple_connection_get_state(gc) == PURPLE_CONNECTED)
        serv_got_im(gc, echo->who, echo->text, PURPLE_MESSAGE_RECV, std::time(nullptr));
    g_free(echo->who);
    g_free(echo->text);
    g_free(echo);
    return FALSE;
}

void echo_later(PurpleAccount *account, const char *who, const char *text) {
    auto* echo = g_new0(Echo, 1);
    echo->account = account;
    echo->who = g_strdup(who);
    echo->text = g_strdup(text);
    // From the loop, as a real network's answer would come, not inside send_im.
    purple_timeout_add(50, deliver_echo, echo);
}

const char *crashtest_list_icon(PurpleAccount *account, PurpleBuddy *buddy) {
    (void)account;
    (void)buddy;
    return "crashtest";
}

GList *crashtest_status_types(PurpleAccount *account) {
    (void)account;
    GList *types = nullptr;
    types = g_list_append(types, purple_status_type_new(PURPLE_STATUS_AVAILABLE, nullptr, nullptr, TRUE));
    types = g_list_append(types, purple_status_type_new(PURPLE_STATUS_OFFLINE, nullptr, nullptr, TRUE));
    return types;
}

void crashtest_login(PurpleAccount *account) {
    PurpleConnection *gc = purple_account_get_connection(account);
    purple_connection_set_state(gc, PURPLE_CONNECTED);
    echo_later(account, "echo", "hello, I am the crash test buddy");
}

void crashtest_close(PurpleConnection *gc) { (void)gc; }

int crashtest_send_im(PurpleConnection *gc, const char *who, const char *message, PurpleMessageFlags flags) {
    (void)flags;
    if (std::strstr(message, "segfault") != nullptr) std::raise(SIGSEGV);
    if (std::strstr(message, "hang") != nullptr)
        for (;;) pause();
    char *echo = g_strdup_printf("echo: %s", message);
    echo_later(purple_connection_get_account(gc), who, echo);
    g_free(echo);
    return 1;
}

// Zero-initialised, filled in by init_plugin before libpurple registers the plugin.
PurplePluginProtocolInfo protocol_info;
PurplePluginInfo plugin_info;

char* text(const char* s) { return const_cast<char*>(s); }

void init_plugin(PurplePlugin* plugin) {
    (void)plugin;
    protocol_info.options = OPT_PROTO_NO_PASSWORD;
    protocol_info.list_icon = crashtest_list_icon;
    protocol_info.status_types = crashtest_status_types;
    protocol_info.login = crashtest_login;
    protocol_info.close = crashtest_close;
    protocol_info.send_im = crashtest_send_im;
    protocol_info.struct_size = sizeof(PurplePluginProtocolInfo);

    plugin_info.magic = PURPLE_PLUGIN_MAGIC;
    plugin_info.major_version = PURPLE_MAJOR_VERSION;
    plugin_info.minor_version = PURPLE_MINOR_VERSION;
    plugin_info.type = PURPLE_PLUGIN_PROTOCOL;
    plugin_info.priority = PURPLE_PRIORITY_DEFAULT;
    plugin_info.id = text("prpl-mxbridge-crashtest");
    plugin_info.name = text("Crash test");
    plugin_info.version = text("1");
    plugin_info.summary = text("A protocol that crashes or hangs on demand, for mxbridge's tests");
    plugin_info.description = plugin_info.summary;
    plugin_info.author = text("mxbridge");
    plugin_info.homepage = text("");
    plugin_info.extra_info = &protocol_info;
}

}  // namespace

extern "C" {
PURPLE_INIT_PLUGIN(mxbridge_crashtest, init_plugin, plugin_info)
}
