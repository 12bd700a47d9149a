// The `bridge:` section of an IRC bridge: one entry per network, validated at start with
// file:line errors (ConfigSection), never read again afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <mxbridge/config_section.h>

namespace mxbridge::irc {

struct ChannelConfig {
    std::string name;     // "#matrix"
    std::string key;      // channel key (+k), empty when none
    std::string aliasId;  // overrides the alias {id}; empty: the default scheme
};

// Rules that keep Matrix habits from spamming IRC.
struct CondenseConfig {
    int editWindowSeconds = 300;     // edits of older messages are not sent (the sender is told)
    int editDebounceMs = 1500;       // edits of one message within this: only the last is sent
    int maxLinesBeforePaste = 5;     // longer messages are posted as a text file link
    bool replyOneLine = true;        // multi-line replies are folded into one line
};

struct NetworkConfig {
    std::string name;  // [a-z0-9-]+: part of every id, so it must never change
    bool isDefault = false;
    std::string address;
    uint16_t port = 6697;
    bool tls = true;
    bool tlsVerify = true;
    std::string password;  // server password (PASS)
    bool sasl = true;      // stored puppet passwords go through SASL PLAIN (else NickServ)
    std::string nickTemplate = "{name}[m]";
    std::string usernameTemplate = "{localpart}";
    std::string realname = "{displayname} (Matrix)";
    bool relay = false;  // one bot connection relays "<name> text" for every Matrix user
    std::string botNick = "mxbridge";
    std::string botSaslPassword;
    std::string nickservPassword;  // the bot's NickServ password
    size_t floodBurst = 5;
    int floodIntervalMs = 2000;
    double connectPerSecond = 2.0;
    size_t connectBurst = 5;
    int idleTimeoutSeconds = 0;  // 0: puppets never time out
    int deadAfterSeconds = 120;  // a puppet disconnected this long makes hooks fail (retryable)
    std::string ipv6Prefix;
    bool identEnabled = false;
    uint16_t identPort = 113;
    bool syncMembers = false;    // connect every Matrix member (networks that require it)
    int lazyMembersAbove = 500;  // NAMES larger than this: ghosts only join when they speak
    int netsplitDebounceSeconds = 60;
    // Who decides when a Matrix user who is not a channel op asks to link a room to a channel:
    // the channel's ops, asked privately by the bridge bot (Ops), or nobody (AdminsOnly).
    // Bridge admins (appservice.admins) may always link.
    enum class LinkConsent { Ops, AdminsOnly };
    LinkConsent linkConsent = LinkConsent::Ops;
    int linkConsentTimeoutSeconds = 300;  // no op's answer by then: refused
    // Matrix reactions sent as "* name reacted with 👍 to nick: text…" (IRC has none).
    bool reactionsAsActions = false;
    std::vector<ChannelConfig> channels;
    std::map<char, int> modesToPower = {{'q', 100}, {'a', 75}, {'o', 50}, {'h', 25}, {'v', 10}};
    CondenseConfig condense;
};

struct IrcBridgeConfig {
    std::vector<NetworkConfig> networks;
    std::string mediaBaseUrl;  // public homeserver URL for media links; empty: mxc URIs
    const NetworkConfig* find(const std::string& name) const;
    const NetworkConfig& defaultNetwork() const;
    std::vector<std::string> names() const;
};

// Throws ConfigError ("file:line: bridge.networks[0].port: …") for any problem.
IrcBridgeConfig parseIrcBridgeConfig(const ConfigSection& section);

}  // namespace mxbridge::irc
