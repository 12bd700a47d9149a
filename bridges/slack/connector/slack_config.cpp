#include "slack_config.h"

namespace mxbridge::slack {

const std::vector<std::string>& relayScopes() {
    // chat:write posts; chat:write.customize sets the Matrix user's name on it; users:read
    // names the ghosts; channels:read checks a channel for !link; channels:history delivers
    // the message events of public channels; files:read fetches what Slack users share and
    // files:write uploads what Matrix users send; reactions:read delivers reaction events and
    // reactions:write reacts for relayed Matrix users.
    static const std::vector<std::string> scopes = {"chat:write", "chat:write.customize", "users:read",
                                                    "channels:read", "channels:history", "files:read",
                                                    "files:write", "reactions:read", "reactions:write"};
    return scopes;
}

bool isSlackChannelId(const std::string& id) {
    if (id.size() < 2 || id.size() > 32) return false;
    if (id[0] != 'C' && id[0] != 'G' && id[0] != 'D') return false;
    for (char c : id)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

SlackBridgeConfig parseSlackBridgeConfig(const ConfigSection& section) {
    section.rejectUnknownKeys({"bot_token", "app_token", "signing_secret", "api_url", "relay_when_login_fails", "channels"});
    SlackBridgeConfig config;
    if (!section.has("bot_token"))
        section.fail("bot_token", "missing: the app's Bot User OAuth Token (xoxb-…), from OAuth & Permissions");
    config.botToken = section.requireString("bot_token");
    if (config.botToken.rfind("xoxb-", 0) != 0)
        section.fail("bot_token", "expected a bot token starting with xoxb- (OAuth & Permissions, Bot User OAuth Token)");
    config.appToken = section.getString("app_token", "");
    if (!config.appToken.empty() && config.appToken.rfind("xapp-", 0) != 0)
        section.fail("app_token", "expected an app-level token starting with xapp- (Basic Information, App-Level "
                                  "Tokens, with the connections:write scope)");
    config.signingSecret = section.getString("signing_secret", "");
    if (config.appToken.empty() && config.signingSecret.empty())
        section.fail("app_token", "set app_token (Socket Mode) or signing_secret (Events API over HTTP): "
                                  "without either no Slack event can arrive");
    config.apiUrl = section.getString("api_url", config.apiUrl);
    config.relayWhenLoginFails = section.getBool("relay_when_login_fails", config.relayWhenLoginFails);
    bool http = config.apiUrl.rfind("https://", 0) == 0 || config.apiUrl.rfind("http://", 0) == 0;
    if (!http || config.apiUrl.back() != '/')
        section.fail("api_url", "expected an http(s) URL ending in '/', e.g. https://slack.com/api/");
    for (const ConfigSection& entry : section.childList("channels")) {
        entry.rejectUnknownKeys({"channel", "room"});
        ConfiguredLink link{.channel = entry.requireString("channel"), .room = RoomId(entry.requireString("room"))};
        if (!isSlackChannelId(link.channel))
            entry.fail("channel", "expected a Slack channel id such as C0123ABCD (channel details, at the bottom)");
        if (!isValidRoomId(link.room.str())) entry.fail("room", "expected a Matrix room id such as !abc:example.org");
        config.channels.push_back(std::move(link));
    }
    return config;
}

}  // namespace mxbridge::slack
