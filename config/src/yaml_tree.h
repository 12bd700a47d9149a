// YAML -> JSON conversion that remembers where every value came from, shared by the config
// loader and the registration parser. Private to config/ and registration/.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "mxbridge/config.h"

namespace mxbridge::detail {

enum class ScalarKind { Null, Bool, Int, Float, String };

// Types a plain (unquoted) scalar the way the YAML 1.2 core schema does; quoted and block
// scalars are always strings. yaml-cpp leaves this to the caller, and `as<bool>()` would
// accept "yes"/"on", which Synapse's YAML 1.1 reader and ours must not disagree about.
ScalarKind inferPlainScalar(std::string_view text);
ScalarKind scalarKind(const YAML::Node& node);

// A typed JSON value for a scalar; `plain` false means it was quoted (always a string).
nlohmann::json scalarToJson(const std::string& text, bool plain);

struct YamlTree {
    nlohmann::json value;
    std::map<std::string, int> lines;  // full path -> 1-based line
    std::shared_ptr<ConfigProvenance> provenance = std::make_shared<ConfigProvenance>();
    std::vector<std::string> errors;   // duplicate keys, non-scalar keys
};

// Converts `node` (found at `path`, on `line`) into `out`, recording lines and plain text.
nlohmann::json convertYaml(const YAML::Node& node, const std::string& path, int line,
                           const std::string& file, YamlTree& tree);

std::string joinPath(const std::string& parent, const std::string& key);

// The candidate closest to `word` by edit distance, or "" when nothing is close enough to be
// a plausible typo.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

// `"text"` with JSON escaping, so control characters in a bad value can't garble the message.
std::string quoted(std::string_view text);

// Whether `regex` compiles as ECMAScript; the compiler's message in `why` otherwise.
bool regexCompiles(const std::string& regex, std::string& why);

}  // namespace mxbridge::detail
