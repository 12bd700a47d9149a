// The IRC bridge's config section: defaults, validation, errors naming the key.
#include <doctest/doctest.h>

#include "network_config.h"

using namespace mxbridge;
using namespace mxbridge::irc;

namespace {
ConfigSection section(const nlohmann::json& j) { return ConfigSection(j, "bridge", "config.yaml", {}); }

std::string errorOf(const nlohmann::json& j) {
    try {
        parseIrcBridgeConfig(section(j));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("a minimal network gets the documented defaults") {
    auto c = parseIrcBridgeConfig(section({{"networks", {{{"name", "libera"}, {"address", "irc.libera.chat"}}}}}));
    REQUIRE(c.networks.size() == 1);
    const NetworkConfig& n = c.networks[0];
    CHECK(n.port == 6697);
    CHECK(n.tls);
    CHECK(n.nickTemplate == "{name}[m]");
    CHECK_FALSE(n.relay);
    CHECK(n.modesToPower.at('o') == 50);
    CHECK(n.modesToPower.at('v') == 10);
    CHECK(n.condense.maxLinesBeforePaste == 5);
    CHECK(c.defaultNetwork().name == "libera");
    CHECK(n.linkConsent == NetworkConfig::LinkConsent::Ops);
    CHECK(n.linkConsentTimeoutSeconds == 300);
    CHECK_FALSE(n.reactionsAsActions);
}

TEST_CASE("every key is read") {
    nlohmann::json net = {{"name", "oftc"},
                          {"address", "127.0.0.1"},
                          {"port", 6667},
                          {"tls", false},
                          {"relay", true},
                          {"bot_nick", "bridge"},
                          {"flood", {{"burst", 3}, {"interval_ms", 500}}},
                          {"connect_rate", {{"per_second", 4}, {"burst", 8}}},
                          {"idle_timeout_seconds", 3600},
                          {"ident", {{"enabled", true}, {"port", 1113}}},
                          {"channels", {{{"name", "#a"}, {"key", "k"}}, {{"name", "#b"}, {"room_alias_id", "bee"}}}},
                          {"modes_to_power", {{"o", 75}, {"v", 5}}},
                          {"link_consent", "admins_only"},
                          {"link_consent_timeout_seconds", 30},
                          {"reactions_as_actions", true},
                          {"condense", {{"edit_window_seconds", 60}, {"max_lines_before_paste", 3}}}};
    auto c = parseIrcBridgeConfig(section({{"networks", {{{"name", "libera"}, {"address", "x"}}, net}}}));
    const NetworkConfig& n = *c.find("oftc");
    CHECK(n.port == 6667);
    CHECK_FALSE(n.tls);
    CHECK(n.relay);
    CHECK(n.botNick == "bridge");
    CHECK(n.floodBurst == 3);
    CHECK(n.floodIntervalMs == 500);
    CHECK(n.connectBurst == 8);
    CHECK(n.idleTimeoutSeconds == 3600);
    CHECK(n.identEnabled);
    CHECK(n.identPort == 1113);
    REQUIRE(n.channels.size() == 2);
    CHECK(n.channels[0].key == "k");
    CHECK(n.channels[1].aliasId == "bee");
    CHECK(n.modesToPower == std::map<char, int>{{'o', 75}, {'v', 5}});
    CHECK(n.condense.editWindowSeconds == 60);
    CHECK(n.condense.maxLinesBeforePaste == 3);
    CHECK(n.linkConsent == NetworkConfig::LinkConsent::AdminsOnly);
    CHECK(n.linkConsentTimeoutSeconds == 30);
    CHECK(n.reactionsAsActions);
    CHECK(c.defaultNetwork().name == "libera");
}

TEST_CASE("bad configs are refused naming the key") {
    CHECK(errorOf({{"networks", nlohmann::json::array()}}).find("networks") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "Libera_1"}, {"address", "x"}}}}}).find("name") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}, {"prot", 1}}}}}).find("prot") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}, {"port", 70000}}}}}).find("port") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}, {"nick_template", "x"}}}}}).find("nick_template") !=
          std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}, {"channels", {{{"name", "nohash"}}}}}}}})
              .find("name") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}}, {{"name", "a"}, {"address", "y"}}}}})
              .find("twice") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}, {"link_consent", "anyone"}}}}})
              .find("link_consent") != std::string::npos);
    CHECK(errorOf({{"networks", {{{"name", "a"}, {"address", "x"}, {"link_consent_timeout_seconds", 0}}}}})
              .find("link_consent_timeout_seconds") != std::string::npos);
}
