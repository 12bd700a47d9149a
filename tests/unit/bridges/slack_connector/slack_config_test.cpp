// The bridge section: what an operator gets told for a mistake, before anything starts.
#include <doctest/doctest.h>

#include "mxbridge/config.h"
#include "slack_config.h"

using namespace mxbridge;
using namespace mxbridge::slack;

namespace {

SlackBridgeConfig parse(nlohmann::json section) {
    return parseSlackBridgeConfig(ConfigSection(std::move(section), "bridge", "config.yaml", {}));
}

std::string errorOf(nlohmann::json section) {
    try {
        parse(std::move(section));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a complete section is read") {
    SlackBridgeConfig config = parse({{"bot_token", "xoxb-1-2-abc"}, {"signing_secret", "s3cret"},
                                      {"api_url", "http://127.0.0.1:8080/api/"},
                                      {"channels", {{{"channel", "C0CHAN001"}, {"room", "!abc:example.org"}}}}});
    CHECK(config.botToken == "xoxb-1-2-abc");
    CHECK(config.signingSecret == "s3cret");
    CHECK(config.apiUrl == "http://127.0.0.1:8080/api/");
    REQUIRE(config.channels.size() == 1);
    CHECK(config.channels[0].channel == "C0CHAN001");
    CHECK(config.channels[0].room.str() == "!abc:example.org");
    CHECK(parse({{"bot_token", "xoxb-1"}, {"app_token", "xapp-1-A1-2-x"}}).apiUrl == "https://slack.com/api/");
    CHECK(parse({{"bot_token", "xoxb-1"}, {"app_token", "xapp-1-A1-2-x"}}).appToken == "xapp-1-A1-2-x");
    // A refused login's messages are relayed unless the operator says otherwise.
    CHECK(parse({{"bot_token", "xoxb-1"}, {"app_token", "xapp-1-A1-2-x"}}).relayWhenLoginFails);
    CHECK_FALSE(parse({{"bot_token", "xoxb-1"}, {"app_token", "xapp-1-A1-2-x"}, {"relay_when_login_fails", false}})
                    .relayWhenLoginFails);
}

TEST_CASE("mistakes name the key and what was expected") {
    CHECK(errorOf(nlohmann::json::object()).find("bot_token") != std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxb-1"}}).find("no Slack event can arrive") != std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxb-1"}, {"app_token", "xoxb-2"}}).find("xapp-") != std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxp-user-token"}}).find("xoxb-") != std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxb-1"}, {"signing_secret", "s"}, {"api_url", "https://slack.com/api"}}).find("ending in '/'") !=
          std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxb-1"}, {"signing_secret", "s"}, {"channels", {{{"channel", "general"}, {"room", "!a:b"}}}}})
              .find("channel id") != std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxb-1"}, {"signing_secret", "s"}, {"channels", {{{"channel", "C0CHAN001"}, {"room", "#alias:b"}}}}})
              .find("room id") != std::string::npos);
    CHECK(errorOf({{"bot_token", "xoxb-1"}, {"signing_secret", "s"}, {"bot_tokn", "x"}}).find("bot_tokn") != std::string::npos);
}
