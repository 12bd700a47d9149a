// A protocol's login, as the framework's !login asks it: the fields each plugin declares
// (username, its splits, the password, the protocol options) as LoginFields, and the
// answers turned back into what the host's `login` takes. Pure: no host, no framework calls.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "mxbridge/login.h"
#include "mxbridge/purple/messages.h"

namespace mxbridge::purple {

// The network name a protocol has in !login and the login store: its plugin id without the
// "prpl-" prefix ("jabber", "irc", "eionrobb-discord").
std::string networkOf(const std::string& protocolId);

std::vector<LoginField> loginFieldsFor(const wire::ProtocolInfo& protocol);

// An answer the user must correct; the message says which field and why (never a secret).
class LoginAnswerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct AccountSpec {
    std::string username;        // splits joined: "alice@example.org/bridge"
    wire::Record settings;       // option key -> typed value, only the options answered
    wire::Record secretSettings; // the same for masked options: stored sealed, like the password
};

// Throws LoginAnswerError.
AccountSpec accountFromAnswers(const wire::ProtocolInfo& protocol, const LoginInput& input);

// Settings as stored with the login (Login::data) and back.
nlohmann::json settingsToJson(const wire::Record& settings);
wire::Record settingsFromJson(const nlohmann::json& json);

}  // namespace mxbridge::purple
