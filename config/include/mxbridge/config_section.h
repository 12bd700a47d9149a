// A bridge's own configuration section: what a connector reads (BridgeContext::config()).
// The operator's whole configuration, tokens and all, is mxbridge/config.h, which only the
// framework includes: a bridge sees its section and nothing else.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxbridge {

// A startup failure in the configuration. what() reads like
//   "config.yaml:12: appservice.port: expected an integer 1-65535, got \"http\""
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Provenance that the line map cannot express: values set from the environment are reported
// by variable name, and plain YAML scalars keep their spelling so `port: 0123` or a numeric
// token read as a string is returned exactly as written, not as a re-printed number.
struct ConfigProvenance {
    std::map<std::string, std::string> envVars;    // full key path -> "MXBRIDGE_..." that set it
    std::map<std::string, std::string> plainText;  // full key path -> scalar as written
};

// A bridge's own section (`bridge:` minus `type`), with typed getters that report problems
// with file:line and key path, like the rest of the config. Bridges never see YAML.
class ConfigSection {
public:
    ConfigSection() = default;
    ConfigSection(nlohmann::json value, std::string path, std::string file,
                  std::map<std::string, int> lines);
    ConfigSection(nlohmann::json value, std::string path, std::string file,
                  std::map<std::string, int> lines,
                  std::shared_ptr<const ConfigProvenance> provenance);

    bool has(const std::string& key) const;
    std::string getString(const std::string& key, const std::string& fallback) const;
    std::string requireString(const std::string& key) const;
    int64_t getInt(const std::string& key, int64_t fallback, int64_t min, int64_t max) const;
    bool getBool(const std::string& key, bool fallback) const;
    std::vector<std::string> getStringList(const std::string& key) const;
    ConfigSection child(const std::string& key) const;  // empty section if absent
    std::vector<ConfigSection> childList(const std::string& key) const;
    const nlohmann::json& raw() const { return value_; }
    const std::string& path() const { return path_; }
    // "file:line: path.key: <message>", for errors a bridge raises about its own keys.
    [[noreturn]] void fail(const std::string& key, const std::string& message) const;
    // Throws one ConfigError listing every key not in `known` (one per line, with a
    // "did you mean" for near misses). Bridges call it first thing on their section.
    void rejectUnknownKeys(std::initializer_list<std::string> known) const;
    // The same check, returning the messages instead of throwing (the loader collects all).
    std::vector<std::string> unknownKeyErrors(const std::vector<std::string>& known) const;
    // "config.yaml:12" or "env MXBRIDGE_APPSERVICE_PORT": where `key` (or its nearest
    // ancestor) was set; just the file name for a key that is missing altogether.
    std::string where(const std::string& key) const;

private:
    std::string fullPath(const std::string& key) const;
    std::string describe(const std::string& full, const nlohmann::json& v) const;

    nlohmann::json value_ = nlohmann::json::object();
    std::string path_;   // "bridge" or "bridge.networks[0]"
    std::string file_;
    std::map<std::string, int> lines_;  // full key path -> line in file_
    std::shared_ptr<const ConfigProvenance> provenance_;  // may be null
};

}  // namespace mxbridge
