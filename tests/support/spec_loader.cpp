// YAML → JSON and `$ref` inlining for the spec data (see spec_loader.h).
#include "spec_loader.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace mxbridge::test::detail {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json plainScalar(const std::string& s) {
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    static const std::regex intRe("^[-+]?[0-9]+$");
    static const std::regex floatRe(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    try {
        if (std::regex_match(s, intRe)) {
            if (s[0] == '-') return std::stoll(s);
            return std::stoull(s[0] == '+' ? s.substr(1) : s);
        }
        if (std::regex_match(s, floatRe)) return std::stod(s);
    } catch (const std::exception&) {
        // Out of range: keep the text.
    }
    return s;
}

json toJson(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return nullptr;
        case YAML::NodeType::Scalar:
            // yaml-cpp tags quoted and block scalars "!", plain ones "?".
            if (node.Tag() == "!") return node.Scalar();
            return plainScalar(node.Scalar());
        case YAML::NodeType::Sequence: {
            json out = json::array();
            for (const auto& item : node) out.push_back(toJson(item));
            return out;
        }
        case YAML::NodeType::Map: {
            json out = json::object();
            for (const auto& kv : node) out[kv.first.as<std::string>()] = toJson(kv.second);
            return out;
        }
    }
    return nullptr;
}

bool isAnnotation(const std::string& key) {
    static const char* kAnnotations[] = {"description", "title",    "example", "examples",
                                         "default",     "deprecated", "readOnly", "writeOnly",
                                         "$schema",     "format"};
    if (key.rfind("x-", 0) == 0) return true;
    return std::any_of(std::begin(kAnnotations), std::end(kAnnotations),
                       [&](const char* a) { return key == a; });
}

std::string normalizedPath(const fs::path& p) {
    return fs::weakly_canonical(p).lexically_normal().string();
}

}  // namespace

json loadYamlFile(const fs::path& file) {
    try {
        return toJson(YAML::LoadFile(file.string()));
    } catch (const YAML::Exception& e) {
        throw std::runtime_error("cannot parse " + file.string() + ": " + e.what());
    }
}

const json& RefResolver::rawFile(const fs::path& file) {
    const std::string key = normalizedPath(file);
    auto it = raw_.find(key);
    if (it == raw_.end()) it = raw_.emplace(key, loadYamlFile(key)).first;
    return it->second;
}

const json& RefResolver::resolvedFile(const fs::path& file) {
    const std::string key = normalizedPath(file);
    auto it = resolvedFiles_.find(key);
    if (it == resolvedFiles_.end()) {
        std::vector<std::string> stack{key + "#"};
        it = resolvedFiles_.emplace(key, resolveNode(rawFile(key), key, false, stack)).first;
    }
    return it->second;
}

json RefResolver::resolve(const json& node, const fs::path& file, bool inExample) {
    std::vector<std::string> stack;
    return resolveNode(node, normalizedPath(file), inExample, stack);
}

json RefResolver::resolveNode(const json& node, const fs::path& file, bool inExample,
                              std::vector<std::string>& stack) {
    if (node.is_array()) {
        json out = json::array();
        for (const auto& item : node) out.push_back(resolveNode(item, file, inExample, stack));
        return out;
    }
    if (!node.is_object()) return node;

    auto refIt = node.find("$ref");
    if (refIt == node.end() || !refIt->is_string()) {
        json out = json::object();
        for (const auto& [key, value] : node.items()) {
            const bool childExample = inExample || key == "example" || key == "examples";
            out[key] = resolveNode(value, file, childExample, stack);
        }
        return out;
    }

    const std::string ref = refIt->get<std::string>();
    const auto hash = ref.find('#');
    const std::string filePart = ref.substr(0, hash);
    const std::string pointer = hash == std::string::npos ? "" : ref.substr(hash + 1);
    const std::string target = filePart.empty() ? file.string() : normalizedPath(file.parent_path() / filePart);
    const std::string key = target + "#" + pointer;
    const std::string memoKey = key + (inExample ? "|example" : "|schema");

    json resolved;
    if (std::find(stack.begin(), stack.end(), key) != stack.end()) {
        resolved = json::object();  // Cycle: accept anything at the point of recursion.
    } else if (auto memo = memo_.find(memoKey); memo != memo_.end()) {
        resolved = memo->second;
    } else if (!fs::exists(target)) {
        // The stored spec subset lacks some folders (e.g. data/api/identity); accept anything.
        if (missing_.insert(target).second) {
            std::fprintf(stderr, "spec_loader: $ref to missing file %s (from %s) read as {}\n",
                         target.c_str(), file.string().c_str());
        }
        resolved = json::object();
    } else {
        const json& doc = rawFile(target);
        const json& pointed = pointer.empty() ? doc : doc.at(json::json_pointer(pointer));
        stack.push_back(key);
        resolved = resolveNode(pointed, target, inExample, stack);
        stack.pop_back();
        memo_[memoKey] = resolved;
    }

    json siblings = json::object();
    bool onlyAnnotations = true;
    for (const auto& [k, v] : node.items()) {
        if (k == "$ref") continue;
        siblings[k] = resolveNode(v, file, inExample || k == "example" || k == "examples", stack);
        onlyAnnotations = onlyAnnotations && isAnnotation(k);
    }
    if (siblings.empty()) return resolved;
    if (inExample || !resolved.is_object() || onlyAnnotations) {
        if (!resolved.is_object()) return siblings;
        for (const auto& [k, v] : siblings.items()) resolved[k] = v;
        return resolved;
    }
    json combined = siblings;
    if (combined.contains("allOf") && combined["allOf"].is_array()) {
        combined["allOf"].push_back(resolved);
    } else {
        combined["allOf"] = json::array({resolved});
    }
    return combined;
}

}  // namespace mxbridge::test::detail
