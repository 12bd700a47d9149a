// The operator's configuration: one YAML file, validated at start, every key overridable
// from the environment. See config/mxbridge.sample.yaml for the commented reference.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxbridge/config_section.h"
#include "mxbridge/log.h"

namespace mxbridge {

// How much a crash may cost. Both keep every acknowledged transaction across a process
// crash; only Power also survives the machine losing power (one fsync per group commit).
enum class Durability { ProcessCrash, PowerLoss };

struct HomeserverConfig {
    std::string url;         // client-server base URL the bridge calls, e.g. http://localhost:8008
    std::string serverName;  // the part after ':' in user ids
    std::chrono::seconds startupTimeout{60};  // how long /versions is retried while it starts
    bool checkOnStartup = true;               // versions, whoami, ping
};

struct AppserviceConfig {
    std::string id = "mxbridge";
    std::string bindAddress = "127.0.0.1";
    uint16_t port = 29300;
    std::string publicUrl;                 // what the homeserver uses to reach us (registration url)
    std::string registrationFile = "./registration.yaml";
    Secret<std::string> asToken;           // empty: taken from the registration file
    Secret<std::string> hsToken;           // empty: taken from the registration file
    std::string botLocalpart = "mxbridge";
    std::string userTemplate;              // "irc_{id}": ghost localparts; default from bridge
    std::string aliasTemplate;             // "irc_{id}": alias localparts; default from bridge
    bool allowQueryToken = false;          // accept ?access_token= (old Synapse, legacy auth)
    size_t maxBodyBytes = 64 * 1024 * 1024;  // transactions larger than this get 413
    bool receiveEphemeral = true;
    bool rateLimited = false;
    unsigned dispatchWorkers = 4;          // room queues run on this many threads
    // A user/alias query not done in this time is answered 404 (its work goes on): keep it
    // under the homeserver's timeout for appservice calls (Synapse: 60 s).
    unsigned queryTimeoutSeconds = 20;
    // Extra, non-exclusive user namespaces (ECMAScript regexes), e.g. to see the Matrix users
    // the bridge puppets. Validated at load; written into the registration as-is.
    std::vector<std::string> extraUserRegexes;
    // Bridge admins: Matrix user ids ("@alice:example.org"), or ECMAScript regexes matched
    // against the whole user id ("@.*:example.org"). Admins may run admin bot commands.
    std::vector<std::string> admins;
};

struct DatabaseConfig {
    std::string path = "./data/mxbridge.db";
    Durability durability = Durability::ProcessCrash;
    // Encrypts login secrets at rest (any string of 32+ characters; SHA-256 gives the key).
    // Empty: no key, and saving a login with a secret fails.
    Secret<std::string> secretKey;
};

struct LoggingConfig {
    LogLevel level = LogLevel::Info;
    std::map<std::string, LogLevel> components;  // per-component override
    bool json = false;
};

struct MetricsConfig {
    bool enabled = true;
    std::string bindAddress = "127.0.0.1";
    uint16_t port = 0;  // 0: served on the appservice listener under /metrics
};

// Links to Matrix media that remote users can open (/_mxbridge/media/<token> on the
// appservice listener, fetched from the homeserver with the bridge's token).
struct MediaConfig {
    bool enabled = true;
    // Where remote users reach the appservice listener (a reverse proxy in front of it);
    // empty: appservice.public_url.
    std::string publicUrl;
    // Signs the links (32+ characters). Empty: a key derived from the as_token, so links
    // work out of the box and stop working when the tokens are regenerated.
    Secret<std::string> signingKey;
    unsigned linkLifetimeDays = 0;      // 0: links do not expire
    uint64_t maxBytes = 50 * 1024 * 1024;  // larger files are not served
};

// The provisioning HTTP API (/_mxbridge/provision/v1), for integration managers and scripts.
struct ProvisioningConfig {
    bool enabled = false;
    Secret<std::string> sharedSecret;  // bearer token; 16+ characters when enabled
};

// The bridge's connections to its remote network, whatever the bridge.
struct RemoteConfig {
    // A connection that drops and comes back within this time leaves only a debug line:
    // it is logged at WARN, counted and moves the state gauge only once it lasts longer.
    // 0: every drop is reported at once.
    unsigned transientGraceSeconds = 60;
};

// Matrix users' own logins on the remote network (bridges with a LoginHandler, login.h).
struct LoginConfig {
    // A remote client with no activity for this long is disconnected (unless the bridge says
    // it must stay); it is made again when next needed. 0: never.
    unsigned idleMinutes = 0;
    // How long a user has to answer a login step (and a step to check what they gave) before
    // the login is cancelled with a message saying so.
    unsigned stepTimeoutSeconds = 120;
};

struct BridgeConfig {
    std::string type;       // registered bridge name, e.g. "irc", or a path to a .so
    ConfigSection section;  // everything under `bridge:` except `type`
};

struct Config {
    std::string sourceFile;  // where it was loaded from, for messages
    // Holds no values, only where each key was set: origins.where("appservice.as_token") is
    // "config.yaml:12" or "env MXBRIDGE_APPSERVICE_AS_TOKEN_FILE (/run/secrets/as)", for
    // problems found after loading (a token the registration file disagrees with).
    ConfigSection origins;
    // Key paths of secrets (tokens, keys, passwords) written in the file itself rather than
    // given through the environment: the bridge warns when others may read such a file.
    std::vector<std::string> secretsInFile;
    HomeserverConfig homeserver;
    AppserviceConfig appservice;
    DatabaseConfig database;
    LoggingConfig logging;
    MetricsConfig metrics;
    MediaConfig media;
    BridgeConfig bridge;
    ProvisioningConfig provisioning;
    RemoteConfig remote;
    LoginConfig login;
};

// Loads, applies MXBRIDGE_* environment overrides and *_FILE secrets, validates.
// Throws ConfigError naming file:line, key path, expectation. `env` defaults to environ.
Config loadConfig(const std::string& path);
Config loadConfig(const std::string& path, const std::map<std::string, std::string>& env);

// Relative paths in `config` (appservice.registration_file, database.path, a plug-in path
// in bridge.type) made absolute against the config file's folder, so `run -c
// /srv/bridge/config.yaml` finds ./registration.yaml beside it whatever the working
// directory. loadConfig() keeps values as the operator wrote them; every command calls this
// right after loading. (Files named by MXBRIDGE_*_FILE variables are read from the same
// folder by loadConfig() itself.)
void resolvePathsFromConfigFolder(Config& config);

// For the first run only: loads the freshly written sample, whose example.com placeholders
// would otherwise be refused, so the registration file can be written beside it.
Config loadConfigAllowingPlaceholders(const std::string& path);

// The commented sample written on first run (same text as config/mxbridge.sample.yaml).
std::string sampleConfigText();

}  // namespace mxbridge
