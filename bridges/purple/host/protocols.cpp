// SPDX-License-Identifier: GPL-2.0-or-later
#include "protocols.h"

namespace mxbridge::purple::host {

namespace {

std::string text(const char* s) { return s ? s : ""; }

wire::ProtocolOption describe(PurpleAccountOption* option) {
    wire::ProtocolOption out{.key = text(purple_account_option_get_setting(option)),
                             .label = text(purple_account_option_get_text(option)),
                             .kind = wire::OptionKind::String,
                             .defaultValue = {},
                             .masked = false,
                             .choices = {}};
    switch (purple_account_option_get_type(option)) {
        case PURPLE_PREF_BOOLEAN:
            out.kind = wire::OptionKind::Boolean;
            out.defaultValue = purple_account_option_get_default_bool(option) ? "true" : "false";
            break;
        case PURPLE_PREF_INT:
            out.kind = wire::OptionKind::Integer;
            out.defaultValue = std::to_string(purple_account_option_get_default_int(option));
            break;
        case PURPLE_PREF_STRING_LIST:
            out.kind = wire::OptionKind::Choice;
            out.defaultValue = text(purple_account_option_get_default_list_value(option));
            for (GList* item = purple_account_option_get_list(option); item; item = item->next) {
                auto* pair = static_cast<PurpleKeyValuePair*>(item->data);
                // The pair's key is what the user sees, its value what the setting stores.
                out.choices.push_back({.label = text(pair->key), .value = text(static_cast<const char*>(pair->value))});
            }
            break;
        default:
            out.defaultValue = text(purple_account_option_get_default_string(option));
            // Only text options can be masked (libpurple asserts on any other kind).
            out.masked = purple_account_option_get_masked(option) != FALSE;
            break;
    }
    return out;
}

}  // namespace

wire::ProtocolList listProtocols() {
    wire::ProtocolList list;
    for (GList* item = purple_plugins_get_protocols(); item; item = item->next) {
        auto* plugin = static_cast<PurplePlugin*>(item->data);
        PurplePluginProtocolInfo* prpl = PURPLE_PLUGIN_PROTOCOL_INFO(plugin);
        wire::ProtocolInfo info{.id = text(purple_plugin_get_id(plugin)),
                                .name = text(purple_plugin_get_name(plugin)),
                                .userSplits = {},
                                .password = wire::PasswordUse::Required,
                                .options = {}};
        if (prpl->options & OPT_PROTO_NO_PASSWORD)
            info.password = wire::PasswordUse::None;
        else if (prpl->options & OPT_PROTO_PASSWORD_OPTIONAL)
            info.password = wire::PasswordUse::Optional;
        for (GList* split = prpl->user_splits; split; split = split->next) {
            auto* s = static_cast<PurpleAccountUserSplit*>(split->data);
            info.userSplits.push_back({.label = text(purple_account_user_split_get_text(s)),
                                       .defaultValue = text(purple_account_user_split_get_default_value(s)),
                                       .separator = std::string(1, purple_account_user_split_get_separator(s)),
                                       .reverse = purple_account_user_split_get_reverse(s) != FALSE});
        }
        for (GList* option = prpl->protocol_options; option; option = option->next)
            info.options.push_back(describe(static_cast<PurpleAccountOption*>(option->data)));
        list.protocols.push_back(std::move(info));
    }
    return list;
}

PurpleAccountOption* findOption(PurplePlugin* plugin, const std::string& key) {
    PurplePluginProtocolInfo* prpl = PURPLE_PLUGIN_PROTOCOL_INFO(plugin);
    for (GList* item = prpl->protocol_options; item; item = item->next) {
        auto* option = static_cast<PurpleAccountOption*>(item->data);
        const char* setting = purple_account_option_get_setting(option);
        if (setting && key == setting) return option;
    }
    return nullptr;
}

}  // namespace mxbridge::purple::host
