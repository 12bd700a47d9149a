// Typed getters over a bridge's (or a core) section; every failure names where the value
// came from (file:line or environment variable) and its full key path.
#include "mxbridge/config.h"

#include <algorithm>

#include "yaml_tree.h"

namespace mxbridge {

ConfigSection::ConfigSection(nlohmann::json value, std::string path, std::string file,
                             std::map<std::string, int> lines)
    : ConfigSection(std::move(value), std::move(path), std::move(file), std::move(lines), nullptr) {}

ConfigSection::ConfigSection(nlohmann::json value, std::string path, std::string file,
                             std::map<std::string, int> lines,
                             std::shared_ptr<const ConfigProvenance> provenance)
    : value_(value.is_null() ? nlohmann::json::object() : std::move(value)),
      path_(std::move(path)),
      file_(std::move(file)),
      lines_(std::move(lines)),
      provenance_(std::move(provenance)) {}

std::string ConfigSection::fullPath(const std::string& key) const {
    if (key.empty()) return path_;
    if (key[0] == '[') return path_ + key;
    return detail::joinPath(path_, key);
}

std::string ConfigSection::where(const std::string& key) const {
    // Walk up from the key to the section root: a value set from the environment is reported
    // by variable; a missing key by its parent's line, so the operator knows where to add it.
    std::string p = fullPath(key);
    while (true) {
        if (provenance_) {
            auto e = provenance_->envVars.find(p);
            if (e != provenance_->envVars.end()) return "env " + e->second;
        }
        auto l = lines_.find(p);
        if (l != lines_.end()) return file_ + ":" + std::to_string(l->second);
        if (p.empty()) return file_;
        auto cut = p.find_last_of(".[");
        p.resize(cut == std::string::npos ? 0 : cut);  // "" is the document root
    }
}

void ConfigSection::fail(const std::string& key, const std::string& message) const {
    throw ConfigError(where(key) + ": " + fullPath(key) + ": " + message);
}

std::string ConfigSection::describe(const std::string& full, const nlohmann::json& v) const {
    if (provenance_) {
        auto t = provenance_->plainText.find(full);
        if (t != provenance_->plainText.end()) return t->second;
    }
    if (v.is_string()) return detail::quoted(v.get<std::string>());
    if (v.is_array()) return "a list";
    if (v.is_object()) return "a map";
    if (v.is_null()) return "nothing";
    return v.dump();
}

bool ConfigSection::has(const std::string& key) const {
    return value_.is_object() && value_.contains(key) && !value_[key].is_null();
}

// A scalar as text: strings as they are, and plain numbers/booleans as written, because an
// operator's `server_name: 1234` or a numeric token is still meant as text.
static bool scalarText(const nlohmann::json& v, const ConfigProvenance* prov, const std::string& full,
                       std::string& out) {
    if (v.is_string()) {
        out = v.get<std::string>();
        return true;
    }
    if (v.is_number() || v.is_boolean()) {
        if (prov) {
            auto t = prov->plainText.find(full);
            if (t != prov->plainText.end()) {
                out = t->second;
                return true;
            }
        }
        out = v.dump();
        return true;
    }
    return false;
}

std::string ConfigSection::getString(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    std::string out;
    if (!scalarText(value_[key], provenance_.get(), fullPath(key), out))
        fail(key, "expected a string, got " + describe(fullPath(key), value_[key]));
    return out;
}

std::string ConfigSection::requireString(const std::string& key) const {
    if (!has(key)) fail(key, "missing; expected a non-empty string");
    std::string s = getString(key, "");
    if (s.empty()) fail(key, "expected a non-empty string, got \"\"");
    return s;
}

int64_t ConfigSection::getInt(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
    if (!has(key)) return fallback;
    const auto& v = value_[key];
    std::string expected = "expected an integer " + std::to_string(min) + "-" + std::to_string(max);
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
        fail(key, expected + ", got " + describe(fullPath(key), v));
    int64_t n = v.get<int64_t>();
    if (n < min || n > max) fail(key, expected + ", got " + describe(fullPath(key), v));
    return n;
}

bool ConfigSection::getBool(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = value_[key];
    if (!v.is_boolean()) fail(key, "expected true or false, got " + describe(fullPath(key), v));
    return v.get<bool>();
}

std::vector<std::string> ConfigSection::getStringList(const std::string& key) const {
    if (!has(key)) return {};
    const auto& v = value_[key];
    if (!v.is_array()) fail(key, "expected a list of strings, got " + describe(fullPath(key), v));
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
        std::string item = key + "[" + std::to_string(i) + "]";
        std::string s;
        if (!scalarText(v[i], provenance_.get(), fullPath(item), s))
            fail(item, "expected a string, got " + describe(fullPath(item), v[i]));
        out.push_back(std::move(s));
    }
    return out;
}

ConfigSection ConfigSection::child(const std::string& key) const {
    nlohmann::json v = nlohmann::json::object();
    if (has(key)) {
        v = value_[key];
        if (!v.is_object()) fail(key, "expected a map of keys, got " + describe(fullPath(key), v));
    }
    return ConfigSection(std::move(v), fullPath(key), file_, lines_, provenance_);
}

std::vector<ConfigSection> ConfigSection::childList(const std::string& key) const {
    if (!has(key)) return {};
    const auto& v = value_[key];
    if (!v.is_array()) fail(key, "expected a list of maps, got " + describe(fullPath(key), v));
    std::vector<ConfigSection> out;
    for (size_t i = 0; i < v.size(); ++i) {
        std::string item = key + "[" + std::to_string(i) + "]";
        if (!v[i].is_object()) fail(item, "expected a map of keys, got " + describe(fullPath(item), v[i]));
        out.emplace_back(v[i], fullPath(item), file_, lines_, provenance_);
    }
    return out;
}

std::vector<std::string> ConfigSection::unknownKeyErrors(const std::vector<std::string>& known) const {
    std::vector<std::pair<int, std::string>> found;  // by line: JSON objects iterate sorted by key
    std::vector<std::string> errors;
    if (!value_.is_object()) return errors;
    for (const auto& [key, _] : value_.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string msg = where(key) + ": " + fullPath(key) + ": unknown key";
        std::string near = detail::closestMatch(key, known);
        if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
        else {
            msg += "; expected one of:";
            for (const auto& k : known) msg += " " + k;
        }
        auto line = lines_.find(fullPath(key));
        found.emplace_back(line == lines_.end() ? 0 : line->second, std::move(msg));
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& f : found) errors.push_back(std::move(f.second));
    return errors;
}

void ConfigSection::rejectUnknownKeys(std::initializer_list<std::string> known) const {
    auto errors = unknownKeyErrors(std::vector<std::string>(known));
    if (errors.empty()) return;
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    throw ConfigError(all);
}

}  // namespace mxbridge
