// YAML -> JSON with provenance; see yaml_tree.h.
#include "yaml_tree.h"

#include <algorithm>
#include <cmath>
#include <regex>

namespace mxbridge::detail {

ScalarKind inferPlainScalar(std::string_view t) {
    if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return ScalarKind::Null;
    if (t == "true" || t == "True" || t == "TRUE" || t == "false" || t == "False" || t == "FALSE")
        return ScalarKind::Bool;
    static const std::regex intRe("[-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+");
    static const std::regex floatRe(
        "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
    std::string s(t);
    if (std::regex_match(s, intRe)) return ScalarKind::Int;
    if (std::regex_match(s, floatRe)) return ScalarKind::Float;
    return ScalarKind::String;
}

ScalarKind scalarKind(const YAML::Node& node) {
    if (node.IsNull()) return ScalarKind::Null;
    if (!node.IsScalar()) return ScalarKind::String;
    if (node.Tag() != "?") return ScalarKind::String;  // quoted, block or explicitly tagged
    return inferPlainScalar(node.Scalar());
}

nlohmann::json scalarToJson(const std::string& text, bool plain) {
    if (!plain) return text;
    switch (inferPlainScalar(text)) {
    case ScalarKind::Null: return nullptr;
    case ScalarKind::Bool: return text[0] == 't' || text[0] == 'T';
    case ScalarKind::Int:
        try {
            if (text.rfind("0x", 0) == 0) return static_cast<int64_t>(std::stoll(text.substr(2), nullptr, 16));
            if (text.rfind("0o", 0) == 0) return static_cast<int64_t>(std::stoll(text.substr(2), nullptr, 8));
            return static_cast<int64_t>(std::stoll(text));
        } catch (const std::out_of_range&) {
            return text;  // too big for int64: keep it as text, getInt() reports it
        }
    case ScalarKind::Float: {
        std::string s = text;
        std::transform(s.begin(), s.end(), s.begin(), ::tolower);
        if (s.find("inf") != std::string::npos) return s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        if (s.find("nan") != std::string::npos) return text;  // JSON has no NaN; keep as text
        return std::stod(text);
    }
    case ScalarKind::String: return text;
    }
    return text;
}

std::string joinPath(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
}

// yaml-cpp passes bytes through unchecked. Text that is not UTF-8 would reach a token or
// regex unchanged but be written back (quoted(), the registration file) with U+FFFD in it.
static bool isUtf8(const std::string& text) {
    try {
        (void)nlohmann::json(text).dump();
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

nlohmann::json convertYaml(const YAML::Node& node, const std::string& path, int line,
                           const std::string& file, YamlTree& tree) {
    // An alias inside its own anchor ("a: &x {b: *x, c: *x}") is a cycle yaml-cpp accepts;
    // walking it would recurse until the stack overflows (or, with two aliases, visit 2^n
    // nodes). No config comes near these limits; past them the walk stops with one error.
    constexpr int kMaxDepth = 64;
    constexpr long kMaxNodes = 100000;
    thread_local int depth = 0;
    thread_local long visited = 0;
    thread_local bool refused = false;
    struct DepthGuard {
        DepthGuard() { ++depth; }
        ~DepthGuard() { --depth; }
    } guard;
    if (depth == 1) {  // a new document
        visited = 0;
        refused = false;
    }
    if (refused) return nullptr;
    if (depth > kMaxDepth || ++visited > kMaxNodes) {
        refused = true;
        tree.errors.push_back(file + ":" + std::to_string(line) + ": " +
                              (path.empty() ? "(top level)" : path.substr(0, 200)) +
                              ": nested too deep or too large (more than " + std::to_string(kMaxDepth) +
                              " levels or " + std::to_string(kMaxNodes) +
                              " values; an alias that refers to its own anchor?)");
        return nullptr;
    }
    if (!path.empty()) tree.lines[path] = line;
    switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
        return nullptr;
    case YAML::NodeType::Scalar: {
        if (!isUtf8(node.Scalar()))
            tree.errors.push_back(file + ":" + std::to_string(line) + ": " +
                                  (path.empty() ? "(top level)" : path) +
                                  ": expected UTF-8 text, got " + mxbridge::detail::quoted(node.Scalar()));
        bool plain = node.Tag() == "?";
        nlohmann::json v = scalarToJson(node.Scalar(), plain);
        if (plain && !v.is_string() && !v.is_null()) tree.provenance->plainText[path] = node.Scalar();
        return v;
    }
    case YAML::NodeType::Sequence: {
        nlohmann::json arr = nlohmann::json::array();
        size_t i = 0;
        for (const auto& item : node) {
            std::string itemPath = path + "[" + std::to_string(i++) + "]";
            arr.push_back(convertYaml(item, itemPath, item.Mark().line + 1, file, tree));
        }
        return arr;
    }
    case YAML::NodeType::Map: {
        nlohmann::json obj = nlohmann::json::object();
        for (const auto& kv : node) {
            int keyLine = kv.first.Mark().line + 1;
            if (!kv.first.IsScalar()) {
                tree.errors.push_back(file + ":" + std::to_string(keyLine) + ": " +
                                      (path.empty() ? "(top level)" : path) +
                                      ": expected a plain key, got a list or map as key");
                continue;
            }
            std::string key = kv.first.Scalar();
            if (!isUtf8(key)) {
                tree.errors.push_back(file + ":" + std::to_string(keyLine) + ": " +
                                      (path.empty() ? "(top level)" : path) +
                                      ": expected a UTF-8 key, got " + mxbridge::detail::quoted(key));
                continue;
            }
            if (std::any_of(key.begin(), key.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
                // A quoted key may hold a newline; printed as is, it would split the error
                // message into lines that no longer start with the file's name.
                tree.errors.push_back(file + ":" + std::to_string(keyLine) + ": " +
                                      (path.empty() ? "(top level)" : path) +
                                      ": expected a key without control characters, got " +
                                      mxbridge::detail::quoted(key));
                continue;
            }
            std::string child = joinPath(path, key);
            if (obj.contains(key)) {
                tree.errors.push_back(file + ":" + std::to_string(keyLine) + ": " + child +
                                      ": duplicate key (first at line " +
                                      std::to_string(tree.lines[child]) + ")");
                continue;
            }
            obj[key] = convertYaml(kv.second, child, keyLine, file, tree);
        }
        return obj;
    }
    }
    return nullptr;
}

static size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t bestDistance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        size_t d = editDistance(word, c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return best;
}

std::string quoted(std::string_view text) {
    return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool regexCompiles(const std::string& regex, std::string& why) {
    try {
        std::regex re(regex, std::regex::ECMAScript);
        return true;
    } catch (const std::regex_error& e) {
        why = e.what();
        return false;
    }
}

}  // namespace mxbridge::detail
