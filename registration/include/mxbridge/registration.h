// The appservice registration file the homeserver loads: building it from the config,
// writing it once with fresh tokens, and validating one on load.
// Schema: matrix-spec data/api/application-service/definitions/registration.yaml.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mxbridge/config.h"
#include "mxbridge/log.h"

namespace mxbridge {

// A registration file that breaks the schema, or tokens that conflict with the config.
// Messages read "registration.yaml:7: namespaces.users[0].exclusive: expected true or false, got \"yes\"".
class RegistrationError : public ConfigError {
public:
    using ConfigError::ConfigError;
};

struct NamespaceRule {
    std::string regex;
    bool exclusive = true;
    friend bool operator==(const NamespaceRule&, const NamespaceRule&) = default;
};

struct Registration {
    std::string id;
    std::optional<std::string> url;  // nullopt: the homeserver sends no traffic (written as null)
    Secret<std::string> asToken, hsToken;
    std::string senderLocalpart;
    std::vector<NamespaceRule> users, aliases, rooms;
    bool rateLimited = false;
    std::vector<std::string> protocols;
    bool receiveEphemeral = false;
};

// What a bridge contributes; non-empty config templates override the defaults.
struct BridgeNamespaceInfo {
    std::string defaultUserTemplate;   // "irc_{id}"
    std::string defaultAliasTemplate;  // "irc_{id}"; empty: no alias namespace
    std::vector<std::string> protocols;
};

// 32 bytes from OpenSSL's CSPRNG as 64 lowercase hex characters. Throws std::runtime_error
// if the generator fails: a predictable token would be worse than not starting.
std::string generateToken();

// Ghosts: "^@" + escaped(template with {id} -> ".+") + ":" + escaped(server_name) + "$",
// exclusive; aliases the same with '#'; no rooms. appservice.extra_user_regexes are added as
// non-exclusive user namespaces.
Registration buildRegistration(const Config& config, const BridgeNamespaceInfo& bridge,
                               Secret<std::string> asToken, Secret<std::string> hsToken);

// YAML for the homeserver. With receiveEphemeral, writes both `receive_ephemeral` (spec 1.13)
// and `de.sorunome.msc2409.push_ephemeral` (older Synapse).
std::string renderRegistrationYaml(const Registration& registration);

// Validates types, required keys and that every regex compiles; throws RegistrationError
// listing every problem with sourceName:line.
Registration parseRegistration(const std::string& yamlText, const std::string& sourceName);
Registration loadRegistrationFile(const std::string& path);

// The registration in effect, writing `path` where needed (mode 0600, temp file + rename):
// - absent: tokens from the config if set there, else generated; the file is written;
// - present: its tokens are kept (never regenerated silently); a config token that differs
//   throws RegistrationError; the rest (url, namespaces...) is refreshed from the config and
//   the file rewritten if that changed anything;
// - regenerate: fresh tokens deliberately (refused if the config pins tokens).
Registration ensureRegistration(const Config& config, const BridgeNamespaceInfo& bridge,
                                const std::string& path, bool regenerate);

// Throws RegistrationError when appservice.as_token or hs_token is set (in the config file
// or the environment) and differs from `registration`'s, read from `path`: the homeserver
// authenticates with the file's tokens, so the bridge could neither call it nor accept its
// transactions. The message says where each token is set, never the tokens.
void checkTokensAgree(const Config& config, const Registration& registration, const std::string& path);

// `mxbridge registration -o output` for another file than appservice.registration_file
// (`registrationFile`, which `run` reads): the homeserver's copy must carry the tokens the
// bridge uses, so they come from registrationFile (or, where it does not exist, from the
// config). Refuses, saying which file holds which tokens, when there are none to copy or
// `output` already holds others; --regenerate-tokens belongs to registrationFile, not here.
Registration exportRegistration(const Config& config, const BridgeNamespaceInfo& bridge,
                                const std::string& registrationFile, const std::string& output);

// Tokens `run` uses: the config's where set, else the registration's.
Secret<std::string> effectiveAsToken(const Config& config, const Registration& registration);
Secret<std::string> effectiveHsToken(const Config& config, const Registration& registration);

}  // namespace mxbridge
