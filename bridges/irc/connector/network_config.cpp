// Reading and checking the IRC bridge's `bridge:` section.
#include "network_config.h"

#include <set>

namespace mxbridge::irc {

namespace {

NetworkConfig parseNetwork(const ConfigSection& s) {
    s.rejectUnknownKeys({"name", "default", "address", "port", "tls", "tls_verify", "password", "sasl",
                         "nick_template", "username_template", "realname", "relay", "bot_nick",
                         "bot_sasl_password", "nickserv_password", "flood", "connect_rate",
                         "idle_timeout_seconds", "dead_after_seconds", "ipv6_prefix", "ident",
                         "sync_members", "lazy_members_above", "netsplit_debounce_seconds",
                         "link_consent", "link_consent_timeout_seconds", "reactions_as_actions",
                         "channels", "modes_to_power", "condense"});
    NetworkConfig n;
    n.name = s.requireString("name");
    if (n.name.empty() || n.name.size() > 32) s.fail("name", "expected 1-32 characters");
    for (char c : n.name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            s.fail("name", "expected lower-case letters, digits and '-' only (it is part of every id), got \"" +
                               n.name + "\"");
    n.isDefault = s.getBool("default", false);
    n.address = s.requireString("address");
    n.tls = s.getBool("tls", true);
    n.port = static_cast<uint16_t>(s.getInt("port", n.tls ? 6697 : 6667, 1, 65535));
    n.tlsVerify = s.getBool("tls_verify", true);
    n.password = s.getString("password", "");
    n.sasl = s.getBool("sasl", true);
    n.nickTemplate = s.getString("nick_template", n.nickTemplate);
    if (n.nickTemplate.find("{name}") == std::string::npos)
        s.fail("nick_template", "expected a template with {name}, e.g. \"{name}[m]\"");
    n.usernameTemplate = s.getString("username_template", n.usernameTemplate);
    n.realname = s.getString("realname", n.realname);
    n.relay = s.getBool("relay", false);
    n.botNick = s.getString("bot_nick", n.botNick);
    n.botSaslPassword = s.getString("bot_sasl_password", "");
    n.nickservPassword = s.getString("nickserv_password", "");
    ConfigSection flood = s.child("flood");
    flood.rejectUnknownKeys({"burst", "interval_ms"});
    n.floodBurst = static_cast<size_t>(flood.getInt("burst", 5, 1, 100));
    n.floodIntervalMs = static_cast<int>(flood.getInt("interval_ms", 2000, 0, 60000));
    ConfigSection rate = s.child("connect_rate");
    rate.rejectUnknownKeys({"per_second", "burst"});
    n.connectPerSecond = static_cast<double>(rate.getInt("per_second", 2, 1, 1000));
    n.connectBurst = static_cast<size_t>(rate.getInt("burst", 5, 1, 10000));
    n.idleTimeoutSeconds = static_cast<int>(s.getInt("idle_timeout_seconds", 0, 0, 365 * 86400));
    n.deadAfterSeconds = static_cast<int>(s.getInt("dead_after_seconds", 120, 1, 86400));
    n.ipv6Prefix = s.getString("ipv6_prefix", "");
    ConfigSection ident = s.child("ident");
    ident.rejectUnknownKeys({"enabled", "port"});
    n.identEnabled = ident.getBool("enabled", false);
    n.identPort = static_cast<uint16_t>(ident.getInt("port", 113, 0, 65535));
    n.syncMembers = s.getBool("sync_members", false);
    n.lazyMembersAbove = static_cast<int>(s.getInt("lazy_members_above", 500, 0, 1000000));
    n.netsplitDebounceSeconds = static_cast<int>(s.getInt("netsplit_debounce_seconds", 60, 0, 3600));
    std::string consent = s.getString("link_consent", "ops");
    if (consent == "ops") n.linkConsent = NetworkConfig::LinkConsent::Ops;
    else if (consent == "admins_only") n.linkConsent = NetworkConfig::LinkConsent::AdminsOnly;
    else s.fail("link_consent", "expected \"ops\" or \"admins_only\", got \"" + consent + "\"");
    n.linkConsentTimeoutSeconds = static_cast<int>(s.getInt("link_consent_timeout_seconds", 300, 1, 86400));
    n.reactionsAsActions = s.getBool("reactions_as_actions", false);
    std::set<std::string> seen;
    for (const ConfigSection& c : s.childList("channels")) {
        c.rejectUnknownKeys({"name", "key", "room_alias_id"});
        ChannelConfig ch;
        ch.name = c.requireString("name");
        if (ch.name.size() < 2 || (ch.name[0] != '#' && ch.name[0] != '&'))
            c.fail("name", "expected a channel name starting with '#' or '&', got \"" + ch.name + "\"");
        for (char x : ch.name)
            if (x == ' ' || x == ',' || x == '\x07') c.fail("name", "a channel name holds no space, ',' or BEL");
        ch.key = c.getString("key", "");
        ch.aliasId = c.getString("room_alias_id", "");
        if (!seen.insert(ch.name).second) c.fail("name", "channel listed twice");
        n.channels.push_back(std::move(ch));
    }
    if (s.has("modes_to_power")) {
        ConfigSection m = s.child("modes_to_power");
        if (!m.raw().is_object()) s.fail("modes_to_power", "expected a map like {o: 50, v: 10}");
        n.modesToPower.clear();
        for (const auto& [key, value] : m.raw().items()) {
            if (key.size() != 1) m.fail(key, "expected a one-letter channel mode");
            n.modesToPower[key[0]] = static_cast<int>(m.getInt(key, 0, 0, 100));
        }
    }
    ConfigSection c = s.child("condense");
    c.rejectUnknownKeys({"edit_window_seconds", "edit_debounce_ms", "max_lines_before_paste", "reply_one_line"});
    n.condense.editWindowSeconds = static_cast<int>(c.getInt("edit_window_seconds", 300, 0, 86400 * 30));
    n.condense.editDebounceMs = static_cast<int>(c.getInt("edit_debounce_ms", 1500, 0, 60000));
    n.condense.maxLinesBeforePaste = static_cast<int>(c.getInt("max_lines_before_paste", 5, 1, 1000));
    n.condense.replyOneLine = c.getBool("reply_one_line", true);
    return n;
}

}  // namespace

const NetworkConfig* IrcBridgeConfig::find(const std::string& name) const {
    for (const auto& n : networks)
        if (n.name == name) return &n;
    return nullptr;
}

const NetworkConfig& IrcBridgeConfig::defaultNetwork() const {
    for (const auto& n : networks)
        if (n.isDefault) return n;
    return networks.front();
}

std::vector<std::string> IrcBridgeConfig::names() const {
    std::vector<std::string> out;
    for (const auto& n : networks) out.push_back(n.name);
    return out;
}

IrcBridgeConfig parseIrcBridgeConfig(const ConfigSection& section) {
    section.rejectUnknownKeys({"networks", "media_base_url"});
    IrcBridgeConfig config;
    config.mediaBaseUrl = section.getString("media_base_url", "");
    std::set<std::string> names;
    int defaults = 0;
    for (const ConfigSection& n : section.childList("networks")) {
        NetworkConfig net = parseNetwork(n);
        if (!names.insert(net.name).second) n.fail("name", "network \"" + net.name + "\" listed twice");
        defaults += net.isDefault ? 1 : 0;
        if (defaults > 1) n.fail("default", "only one network may be the default");
        config.networks.push_back(std::move(net));
    }
    if (config.networks.empty())
        section.fail("networks", "expected at least one network, e.g. [{name: libera, address: irc.libera.chat}]");
    return config;
}

}  // namespace mxbridge::irc
