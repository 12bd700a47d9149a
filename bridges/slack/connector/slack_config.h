// The `bridge:` section of a Slack bridge, read and checked without touching the network:
//
//     bridge:
//       type: slack
//       bot_token: xoxb-…          # or MXBRIDGE_BRIDGE_BOT_TOKEN(_FILE)
//       app_token: xapp-…          # Socket Mode; or MXBRIDGE_BRIDGE_APP_TOKEN(_FILE)
//       signing_secret: …          # Events API over HTTP; or MXBRIDGE_BRIDGE_SIGNING_SECRET(_FILE)
//       api_url: https://slack.com/api/
//       relay_when_login_fails: true  # a user whose own login Slack refuses is relayed meanwhile
//       channels:                  # portals made by the operator (relay mode)
//         - {channel: C0123ABCD, room: "!abc:example.org"}
#pragma once

#include <string>
#include <vector>

#include "mxbridge/config_section.h"
#include "mxbridge/ids.h"

namespace mxbridge::slack {

struct ConfiguredLink {
    std::string channel;  // C…/G…: a Slack channel id
    RoomId room;
};

struct SlackBridgeConfig {
    std::string botToken;
    std::string appToken;       // xapp-…: Socket Mode; empty: none
    std::string signingSecret;  // empty: no Events API webhook
    std::string apiUrl = "https://slack.com/api/";
    // When Slack refuses a logged-in user's token: post their messages through the relay (under
    // their name) until they log in again; false: tell them each one was not delivered.
    bool relayWhenLoginFails = true;
    std::vector<ConfiguredLink> channels;
};

// The scopes relay mode needs from the bot token (auth.test reports any that are missing).
const std::vector<std::string>& relayScopes();

// Whether `id` looks like a Slack conversation id (C…, G… or D…, upper-case letters and digits).
bool isSlackChannelId(const std::string& id);

// Throws ConfigError naming file:line and the key for an unknown key, a missing or malformed
// bot token, an app token not starting with xapp-, neither an app token nor a signing secret
// (no way for events to arrive), an api_url that is not http(s) or lacks its trailing '/', or a
// channel entry without a valid channel id or room id.
SlackBridgeConfig parseSlackBridgeConfig(const ConfigSection& section);

}  // namespace mxbridge::slack
