// loadConfig(): YAML file -> environment overrides -> typed, validated Config. Every problem
// is collected and reported together, so an operator fixes the file in one pass.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "mxbridge/config.h"
#include "yaml_tree.h"

extern char** environ;

namespace mxbridge {
namespace {

using nlohmann::json;

const std::vector<std::string> kSections = {"homeserver", "appservice",   "database", "logging", "metrics",
                                            "bridge",     "provisioning", "media",    "remote",
                                            "login"};

// Keys of the core sections; `bridge` and `logging.components` are open-ended.
const std::map<std::string, std::vector<std::string>>& coreKeys() {
    static const std::map<std::string, std::vector<std::string>> keys = {
        {"homeserver", {"url", "server_name", "startup_timeout_seconds", "check_on_startup"}},
        {"appservice",
         {"id", "bind_address", "port", "public_url", "registration_file", "as_token", "hs_token",
          "bot_localpart", "user_template", "alias_template", "allow_query_token", "max_body_bytes",
          "receive_ephemeral", "rate_limited", "dispatch_workers", "extra_user_regexes", "admins",
          "query_timeout_seconds"}},
        {"database", {"path", "durability", "secret_key"}},
        {"logging", {"level", "json", "components"}},
        {"metrics", {"enabled", "bind_address", "port"}},
        {"provisioning", {"enabled", "shared_secret"}},
        {"media", {"enabled", "public_url", "signing_key", "link_lifetime_days", "max_bytes"}},
        {"remote", {"transient_grace_seconds"}},
        {"login", {"idle_minutes", "step_timeout_seconds"}},
    };
    return keys;
}

std::vector<std::string> splitUnderscore(const std::string& s) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : s) {
        if (c == '_') {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    parts.push_back(cur);
    return parts;
}

// A key as it appears in a variable name: upper case, anything but letters and digits as '_'.
std::vector<std::string> envParts(const std::string& key) {
    std::string s;
    for (char c : key) s += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
    return splitUnderscore(s);
}

struct Segment {
    std::string key;
    long index = -1;  // >= 0: list element
};

struct Resolution {
    std::vector<Segment> segments;
    bool createsKey = false;  // the last key exists neither in the file nor in the schema
};

// Finds the key path a variable's name parts denote, trying the file's own keys and the
// schema's. Several splits can fit (APPSERVICE_AS_TOKEN), so each candidate is tried and the
// first full match wins, longest key first.
bool resolve(const json* node, const std::vector<std::string>* schema, bool open,
             const std::string& path, const std::vector<std::string>& parts, size_t at,
             Resolution& out) {
    if (at == parts.size()) return true;
    if (node && node->is_array()) {
        const std::string& p = parts[at];
        if (p.empty() || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
        long i = std::stol(p);
        if (i >= static_cast<long>(node->size())) return false;
        out.segments.push_back({"", i});
        if (resolve(&(*node)[i], nullptr, true, path, parts, at + 1, out)) return true;
        out.segments.pop_back();
        return false;
    }
    std::vector<std::string> candidates;
    if (node && node->is_object())
        for (const auto& [k, _] : node->items()) candidates.push_back(k);
    if (schema) candidates.insert(candidates.end(), schema->begin(), schema->end());
    std::sort(candidates.begin(), candidates.end(), [](const std::string& a, const std::string& b) {
        return envParts(a).size() > envParts(b).size();
    });
    for (const auto& c : candidates) {
        auto cp = envParts(c);
        if (at + cp.size() > parts.size() || !std::equal(cp.begin(), cp.end(), parts.begin() + at)) continue;
        const json* next = node && node->is_object() && node->contains(c) ? &(*node)[c] : nullptr;
        const std::vector<std::string>* nextSchema = nullptr;
        bool nextOpen = open;
        std::string childPath = detail::joinPath(path, c);
        if (path.empty()) {
            auto it = coreKeys().find(c);
            nextSchema = it == coreKeys().end() ? nullptr : &it->second;
            nextOpen = c == "bridge";
        } else if (childPath == "logging.components") {
            nextOpen = true;
        }
        out.segments.push_back({c, -1});
        if (resolve(next, nextSchema, nextOpen, childPath, parts, at + cp.size(), out)) return true;
        out.segments.pop_back();
    }
    if (open && (!node || node->is_object())) {
        // An open section may gain keys the file doesn't have; the rest of the name is one key.
        std::string key;
        for (size_t i = at; i < parts.size(); ++i) {
            std::string p = parts[i];
            std::transform(p.begin(), p.end(), p.begin(), ::tolower);
            key += (i == at ? "" : "_") + p;
        }
        out.segments.push_back({key, -1});
        out.createsKey = true;
        return true;
    }
    return false;
}

std::string pathOf(const std::vector<Segment>& segs) {
    std::string p;
    for (const auto& s : segs) p = s.index >= 0 ? p + "[" + std::to_string(s.index) + "]" : detail::joinPath(p, s.key);
    return p;
}

// Environment values are typed like plain YAML scalars; a leading '[' is a flow list.
json envValue(const std::string& text, const std::string& path, detail::YamlTree& tree, std::string& error) {
    if (!text.empty() && text[0] == '[') {
        try {
            YAML::Node n = YAML::Load(text);
            if (n.IsSequence()) return detail::convertYaml(n, path, 0, "", tree);
        } catch (const YAML::Exception& e) {
            error = "expected a flow list like [a, b]: " + e.msg;
            return nullptr;
        }
    }
    json v = detail::scalarToJson(text, true);
    if (!v.is_string() && !v.is_null()) tree.provenance->plainText[path] = text;
    if (v.is_null()) v = "";  // VAR= sets an empty value rather than deleting the key
    return v;
}

void eraseUnder(std::map<std::string, int>& lines, const std::string& path) {
    for (auto it = lines.lower_bound(path); it != lines.end() && it->first.rfind(path, 0) == 0;)
        it = lines.erase(it);
}

void eraseUnder(std::map<std::string, std::string>& m, const std::string& path) {
    for (auto it = m.lower_bound(path); it != m.end() && it->first.rfind(path, 0) == 0;) it = m.erase(it);
}

// A relative `path` from the config or its environment, taken from the config file's folder:
// the working directory of a service is often `/` or the operator's home, never a promise.
std::string fromConfigFolder(const std::string& configFile, const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (fs::absolute(configFile).parent_path() / path).lexically_normal().string();
}

bool readSecretFile(const std::string& file, std::string& out, std::string& error) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        error = "cannot read " + file + ": " + std::strerror(errno);
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    // Secret files are written by editors and `echo`; the trailing newline is never part of it.
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return true;
}

void applyEnv(detail::YamlTree& tree, const std::map<std::string, std::string>& env,
              const std::string& configFile, std::vector<std::string>& errors) {
    static const std::string kPrefix = "MXBRIDGE_";
    for (const auto& [name, value] : env) {
        if (name.rfind(kPrefix, 0) != 0) continue;
        auto parts = splitUnderscore(name.substr(kPrefix.size()));
        // Other MXBRIDGE_* variables (MXBRIDGE_SPEC_DIR, MXBRIDGE_CONFIG...) aren't config keys.
        bool isSection = false;
        for (const auto& s : kSections)
            if (envParts(s) == std::vector<std::string>{parts[0]}) isSection = true;
        if (!isSection) continue;

        static const std::vector<std::string> sections = kSections;
        Resolution full, stem;
        // A whole section can't come from one variable; it needs at least section and key.
        bool fullOk = resolve(&tree.value, &sections, false, "", parts, 0, full) && full.segments.size() >= 2;
        bool fromFile = false;
        if (!(fullOk && !full.createsKey) && parts.size() > 1 && parts.back() == "FILE") {
            std::vector<std::string> stemParts(parts.begin(), parts.end() - 1);
            if (resolve(&tree.value, &sections, false, "", stemParts, 0, stem) && stem.segments.size() >= 2)
                fromFile = true;
        }
        if (!fullOk && !fromFile) {
            std::string section;
            for (const auto& s : kSections)
                if (envParts(s)[0] == parts[0]) section = s;
            std::string msg = "env " + name + ": no configuration key " + section + ".";
            std::string guess;
            for (size_t i = 1; i < parts.size(); ++i) {
                std::string p = parts[i];
                std::transform(p.begin(), p.end(), p.begin(), ::tolower);
                guess += (i == 1 ? "" : "_") + p;
            }
            msg += guess;
            auto it = coreKeys().find(section);
            if (it != coreKeys().end()) {
                std::string near = detail::closestMatch(guess, it->second);
                if (!near.empty()) msg += "; did you mean " + section + "." + near + "?";
            }
            errors.push_back(msg);
            continue;
        }
        const Resolution& r = fromFile ? stem : full;
        std::string path = pathOf(r.segments);
        std::string source = name;
        std::string text = value;
        if (fromFile) {
            std::string error;
            if (env.count(name.substr(0, name.size() - 5))) {
                errors.push_back("env " + name + ": " + path + ": both " + name.substr(0, name.size() - 5) +
                                 " and " + name + " are set; keep one");
                continue;
            }
            std::string secretFile = fromConfigFolder(configFile, value);
            if (!readSecretFile(secretFile, text, error)) {
                errors.push_back("env " + name + ": " + path + ": " + error);
                continue;
            }
            source = name + " (" + secretFile + ")";
        }
        std::string error;
        eraseUnder(tree.lines, path);
        eraseUnder(tree.provenance->plainText, path);
        eraseUnder(tree.provenance->envVars, path);
        json v = envValue(text, path, tree, error);
        eraseUnder(tree.lines, path);  // a flow list records line 0 for its items
        if (!error.empty()) {
            errors.push_back("env " + source + ": " + path + ": " + error);
            continue;
        }
        tree.provenance->envVars[path] = source;
        json* at = &tree.value;
        for (const auto& s : r.segments) {
            if (s.index >= 0) {
                at = &(*at)[static_cast<size_t>(s.index)];
            } else {
                if (!at->is_object()) *at = json::object();
                at = &(*at)[s.key];
            }
        }
        *at = std::move(v);
    }
}

// Catches the ConfigError of one check so the next check still runs; messages may hold
// several lines (rejectUnknownKeys).
template <typename F>
void collect(std::vector<std::string>& errors, F&& check) {
    try {
        check();
    } catch (const ConfigError& e) {
        std::istringstream lines(e.what());
        for (std::string l; std::getline(lines, l);) errors.push_back(l);
    }
}

bool isHttpUrl(const std::string& url, bool allowPath) {
    static const std::regex hostOnly(
        R"(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?)");
    static const std::regex withPath(
        R"(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[^\s?#]*)?)");
    return std::regex_match(url, allowPath ? withPath : hostOnly);
}

// Matrix user id localpart characters (spec appendices, "User Identifiers").
bool isLocalpart(const std::string& s) {
    static const std::regex re("[a-z0-9._=/+-]+");
    return std::regex_match(s, re);
}

// A full user id, "@localpart:server" (spec appendices, "User Identifiers"). An admins entry
// that is not one is a regex; ops/admin_list.cpp draws the same line.
bool isUserId(const std::string& s) {
    static const std::regex re(R"(@[a-z0-9._=/+-]+:([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?)");
    return std::regex_match(s, re);
}

void checkTemplate(const ConfigSection& s, const std::string& key, const std::string& tpl, bool alias) {
    if (tpl.empty()) return;  // the bridge's default applies
    size_t first = tpl.find("{id}");
    if (first == std::string::npos || tpl.find("{id}", first + 1) != std::string::npos)
        s.fail(key, "expected a template containing {id} exactly once, like \"irc_{id}\", got " + detail::quoted(tpl));
    std::string rest = tpl.substr(0, first) + tpl.substr(first + 4);
    if (!rest.empty() && !isLocalpart(rest))
        s.fail(key, std::string("expected only ") + (alias ? "alias" : "user id") +
                        " localpart characters a-z 0-9 . _ = - / + around {id}, got " + detail::quoted(tpl));
}

void checkPlaceholders(const json& v, const std::string& path, const ConfigSection& root,
                       std::vector<std::string>& errors) {
    static const std::regex placeholder(R"((^|[^A-Za-z0-9-])example\.(com|net|org)($|[^A-Za-z0-9-]))",
                                        std::regex::icase);
    if (v.is_object()) {
        for (const auto& [k, child] : v.items()) checkPlaceholders(child, detail::joinPath(path, k), root, errors);
    } else if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i) checkPlaceholders(v[i], path + "[" + std::to_string(i) + "]", root, errors);
    } else if (v.is_string() && std::regex_search(v.get<std::string>(), placeholder)) {
        errors.push_back(root.where(path) + ": " + path + ": expected your own value, got the sample's placeholder " +
                         detail::quoted(v.get<std::string>()) + "; edit it");
    }
}

Config build(const std::string& file, detail::YamlTree& tree, std::vector<std::string>& errors,
             bool allowPlaceholders) {
    Config c;
    c.sourceFile = file;
    c.origins = ConfigSection(json::object(), "", file, tree.lines, tree.provenance);
    if (!tree.value.is_object()) {
        if (!tree.value.is_null()) errors.push_back(file + ":1: expected a map of sections at the top level");
        tree.value = json::object();
    }
    ConfigSection root(tree.value, "", file, tree.lines, tree.provenance);
    for (auto& e : root.unknownKeyErrors(kSections)) errors.push_back(std::move(e));
    if (!allowPlaceholders) checkPlaceholders(tree.value, "", root, errors);

    // A section that is not a map is reported by child(); the checks below then read it as
    // empty but still named, so their messages keep the file and key path.
    auto namedSection = [&](const std::string& key) {
        ConfigSection s(json::object(), key, file, tree.lines, tree.provenance);
        collect(errors, [&] { s = root.child(key); });
        return s;
    };
    ConfigSection hs = namedSection("homeserver"), as = namedSection("appservice"),
                  db = namedSection("database"), lg = namedSection("logging"),
                  mt = namedSection("metrics"), br = namedSection("bridge"),
                  pv = namedSection("provisioning"), md = namedSection("media"), rm = namedSection("remote"),
                  lo = namedSection("login");
    for (const auto& [section, keys] : coreKeys()) {
        const ConfigSection& s = section == "homeserver" ? hs : section == "appservice" ? as
                               : section == "database"   ? db : section == "logging"  ? lg
                               : section == "metrics"    ? mt : section == "media"    ? md
                               : section == "remote"     ? rm : section == "login"    ? lo : pv;
        for (auto& e : s.unknownKeyErrors(keys)) errors.push_back(std::move(e));
    }

    auto& h = c.homeserver;
    collect(errors, [&] {
        h.url = hs.requireString("url");
        if (!isHttpUrl(h.url, false))
            hs.fail("url", "expected an http(s)://host[:port] URL, got " + detail::quoted(h.url));
    });
    collect(errors, [&] {
        h.serverName = hs.requireString("server_name");
        static const std::regex serverName(R"(([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?)");
        if (!std::regex_match(h.serverName, serverName))
            hs.fail("server_name", "expected a server name like matrix.org, got " + detail::quoted(h.serverName));
    });
    collect(errors, [&] { h.startupTimeout = std::chrono::seconds(hs.getInt("startup_timeout_seconds", 60, 1, 3600)); });
    collect(errors, [&] { h.checkOnStartup = hs.getBool("check_on_startup", true); });

    auto& a = c.appservice;
    collect(errors, [&] {
        a.id = as.getString("id", a.id);
        static const std::regex id("[A-Za-z0-9._-]+");
        if (!std::regex_match(a.id, id))
            as.fail("id", "expected letters, digits, '.', '_' or '-', got " + detail::quoted(a.id));
    });
    collect(errors, [&] {
        a.bindAddress = as.getString("bind_address", a.bindAddress);
        if (a.bindAddress.empty()) as.fail("bind_address", "expected an address to listen on, got \"\"");
    });
    collect(errors, [&] { a.port = static_cast<uint16_t>(as.getInt("port", a.port, 1, 65535)); });
    collect(errors, [&] {
        a.publicUrl = as.requireString("public_url");
        if (!isHttpUrl(a.publicUrl, true))
            as.fail("public_url", "expected the http(s) URL the homeserver reaches us at, got " + detail::quoted(a.publicUrl));
    });
    collect(errors, [&] { a.registrationFile = as.getString("registration_file", a.registrationFile); });
    collect(errors, [&] { a.asToken = Secret<std::string>(as.getString("as_token", "")); });
    collect(errors, [&] { a.hsToken = Secret<std::string>(as.getString("hs_token", "")); });
    collect(errors, [&] {
        a.botLocalpart = as.getString("bot_localpart", a.botLocalpart);
        if (!isLocalpart(a.botLocalpart))
            as.fail("bot_localpart", "expected user id localpart characters a-z 0-9 . _ = - / +, got " +
                                         detail::quoted(a.botLocalpart));
    });
    collect(errors, [&] {
        a.userTemplate = as.getString("user_template", "");
        checkTemplate(as, "user_template", a.userTemplate, false);
    });
    collect(errors, [&] {
        a.aliasTemplate = as.getString("alias_template", "");
        checkTemplate(as, "alias_template", a.aliasTemplate, true);
    });
    collect(errors, [&] { a.allowQueryToken = as.getBool("allow_query_token", a.allowQueryToken); });
    collect(errors, [&] {
        a.maxBodyBytes = static_cast<size_t>(as.getInt("max_body_bytes", static_cast<int64_t>(a.maxBodyBytes), 1024, INT64_MAX));
    });
    collect(errors, [&] { a.receiveEphemeral = as.getBool("receive_ephemeral", a.receiveEphemeral); });
    collect(errors, [&] { a.rateLimited = as.getBool("rate_limited", a.rateLimited); });
    collect(errors, [&] { a.dispatchWorkers = static_cast<unsigned>(as.getInt("dispatch_workers", a.dispatchWorkers, 1, 64)); });
    collect(errors, [&] {
        a.queryTimeoutSeconds = static_cast<unsigned>(as.getInt("query_timeout_seconds", a.queryTimeoutSeconds, 1, 300));
    });
    collect(errors, [&] {
        a.extraUserRegexes = as.getStringList("extra_user_regexes");
        for (size_t i = 0; i < a.extraUserRegexes.size(); ++i) {
            std::string why;
            std::string key = "extra_user_regexes[" + std::to_string(i) + "]";
            collect(errors, [&] {
                if (!detail::regexCompiles(a.extraUserRegexes[i], why))
                    as.fail(key, "expected a regular expression, got " + detail::quoted(a.extraUserRegexes[i]) + " (" + why + ")");
            });
        }
    });
    collect(errors, [&] {
        a.admins = as.getStringList("admins");
        for (size_t i = 0; i < a.admins.size(); ++i) {
            const std::string& admin = a.admins[i];
            std::string why;
            collect(errors, [&] {
                if (isUserId(admin)) return;
                if (admin.empty() || !detail::regexCompiles(admin, why))
                    as.fail("admins[" + std::to_string(i) + "]",
                            "expected a Matrix user id like \"@alice:example.org\" or a regex like "
                            "\"@.*:example.org\", got " + detail::quoted(admin) +
                                (why.empty() ? "" : " (" + why + ")"));
            });
        }
    });

    collect(errors, [&] { c.database.path = db.getString("path", c.database.path); });
    collect(errors, [&] {
        std::string d = db.getString("durability", "process_crash");
        if (d == "process_crash") c.database.durability = Durability::ProcessCrash;
        else if (d == "power_loss") c.database.durability = Durability::PowerLoss;
        else db.fail("durability", "expected process_crash or power_loss, got " + detail::quoted(d));
    });
    collect(errors, [&] {
        c.database.secretKey = Secret<std::string>(db.getString("secret_key", ""));
        // Never echo the value: it is a key.
        if (!c.database.secretKey.empty() && c.database.secretKey.reveal().size() < 32)
            db.fail("secret_key", "expected at least 32 characters (e.g. `openssl rand -hex 32`), got " +
                                      std::to_string(c.database.secretKey.reveal().size()));
    });

    auto levelOf = [](const ConfigSection& s, const std::string& key, LogLevel fallback) {
        if (!s.has(key)) return fallback;
        std::string text = s.getString(key, "");
        LogLevel l;
        if (!parseLogLevel(text, l))
            s.fail(key, "expected trace, debug, info, warn, error or off, got " + detail::quoted(text));
        return l;
    };
    collect(errors, [&] { c.logging.level = levelOf(lg, "level", c.logging.level); });
    collect(errors, [&] { c.logging.json = lg.getBool("json", false); });
    collect(errors, [&] {
        ConfigSection comps = lg.child("components");
        // Not a structured binding: clang before 16 (Debian 12's, for the fuzzers) cannot
        // capture one in a lambda.
        for (const auto& item : comps.raw().items()) {
            const std::string& name = item.key();
            collect(errors, [&] { c.logging.components[name] = levelOf(comps, name, LogLevel::Info); });
        }
    });

    collect(errors, [&] { c.metrics.enabled = mt.getBool("enabled", c.metrics.enabled); });
    collect(errors, [&] { c.metrics.bindAddress = mt.getString("bind_address", c.metrics.bindAddress); });
    collect(errors, [&] { c.metrics.port = static_cast<uint16_t>(mt.getInt("port", 0, 0, 65535)); });

    collect(errors, [&] { c.provisioning.enabled = pv.getBool("enabled", false); });
    collect(errors, [&] {
        c.provisioning.sharedSecret = Secret<std::string>(pv.getString("shared_secret", ""));
        size_t length = c.provisioning.sharedSecret.reveal().size();
        if (c.provisioning.enabled && length < 16)
            pv.fail("shared_secret", length == 0
                ? std::string("missing; expected a secret of at least 16 characters while "
                              "provisioning.enabled is true (or MXBRIDGE_PROVISIONING_SHARED_SECRET_FILE)")
                : "expected at least 16 characters, got " + std::to_string(length));
    });

    collect(errors, [&] { c.media.enabled = md.getBool("enabled", c.media.enabled); });
    collect(errors, [&] {
        c.media.publicUrl = md.getString("public_url", "");
        if (!c.media.publicUrl.empty() && c.media.publicUrl.rfind("http://", 0) != 0 &&
            c.media.publicUrl.rfind("https://", 0) != 0)
            md.fail("public_url", "expected an http:// or https:// URL, got " + detail::quoted(c.media.publicUrl));
    });
    collect(errors, [&] {
        c.media.signingKey = Secret<std::string>(md.getString("signing_key", ""));
        if (!c.media.signingKey.empty() && c.media.signingKey.reveal().size() < 32)
            md.fail("signing_key", "expected at least 32 characters (e.g. `openssl rand -hex 32`), got " +
                                       std::to_string(c.media.signingKey.reveal().size()));
    });
    collect(errors, [&] {
        c.media.linkLifetimeDays = static_cast<unsigned>(md.getInt("link_lifetime_days", 0, 0, 36500));
    });
    collect(errors, [&] {
        c.media.maxBytes = static_cast<uint64_t>(md.getInt("max_bytes", static_cast<int64_t>(c.media.maxBytes), 1,
                                                           int64_t{1} << 32));
    });

    collect(errors, [&] {
        c.remote.transientGraceSeconds = static_cast<unsigned>(
            rm.getInt("transient_grace_seconds", c.remote.transientGraceSeconds, 0, 86400));
    });
    collect(errors, [&] {
        c.login.idleMinutes = static_cast<unsigned>(lo.getInt("idle_minutes", c.login.idleMinutes, 0, 525600));
    });
    collect(errors, [&] {
        c.login.stepTimeoutSeconds = static_cast<unsigned>(
            lo.getInt("step_timeout_seconds", c.login.stepTimeoutSeconds, 5, 3600));
    });

    collect(errors, [&] {
        c.bridge.type = br.requireString("type");
        json rest = br.raw();
        rest.erase("type");
        c.bridge.section = ConfigSection(std::move(rest), "bridge", file, tree.lines, tree.provenance);
    });
    return c;
}

}  // namespace

namespace {

// Whether a key names a secret: the core config's tokens and keys, and any "password" in a
// bridge's section (IRC's server, SASL and NickServ passwords).
bool isSecretKey(const std::string& key) {
    return key == "as_token" || key == "hs_token" || key == "secret_key" || key == "shared_secret" ||
           key == "signing_key" ||
           key.find("password") != std::string::npos;
}

// Paths of non-empty secrets whose value came from the file (the environment's are erased
// from the line map when they override it).
void collectSecretsInFile(const json& value, const std::string& path, const detail::YamlTree& tree,
                          std::vector<std::string>& out) {
    if (value.is_object()) {
        for (const auto& [key, child] : value.items()) {
            std::string childPath = path.empty() ? key : path + "." + key;
            if (child.is_string() && !child.get<std::string>().empty() && isSecretKey(key) &&
                tree.lines.count(childPath) && !tree.provenance->envVars.count(childPath))
                out.push_back(childPath);
            else collectSecretsInFile(child, childPath, tree, out);
        }
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i)
            collectSecretsInFile(value[i], path + "[" + std::to_string(i) + "]", tree, out);
    }
}

Config loadWith(const std::string& path, const std::map<std::string, std::string>& env,
                bool allowPlaceholders) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read the configuration file: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();

    detail::YamlTree tree;
    try {
        YAML::Node doc = YAML::Load(text.str());
        tree.value = detail::convertYaml(doc, "", 1, path, tree);
    } catch (const YAML::Exception& e) {
        throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
    std::vector<std::string> errors = tree.errors;
    applyEnv(tree, env, path, errors);
    Config c = build(path, tree, errors, allowPlaceholders);
    collectSecretsInFile(tree.value, "", tree, c.secretsInFile);
    if (!errors.empty()) {
        // In file order, so the report reads top to bottom; environment problems last.
        auto lineOf = [&](const std::string& e) -> long {
            if (e.rfind(path + ":", 0) != 0) return e.rfind("env ", 0) == 0 ? LONG_MAX : 0;
            return std::strtol(e.c_str() + path.size() + 1, nullptr, 10);
        };
        std::stable_sort(errors.begin(), errors.end(),
                         [&](const std::string& a, const std::string& b) { return lineOf(a) < lineOf(b); });
        std::string all;
        for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
        throw ConfigError(all);
    }
    return c;
}

}  // namespace

Config loadConfig(const std::string& path, const std::map<std::string, std::string>& env) {
    return loadWith(path, env, false);
}

Config loadConfigAllowingPlaceholders(const std::string& path) {
    return loadWith(path, {}, true);
}

void resolvePathsFromConfigFolder(Config& config) {
    const std::string& file = config.sourceFile;
    config.appservice.registrationFile = fromConfigFolder(file, config.appservice.registrationFile);
    config.database.path = fromConfigFolder(file, config.database.path);
    // A name without '/' is a built-in bridge or a library for dlopen's own search path.
    if (config.bridge.type.find('/') != std::string::npos)
        config.bridge.type = fromConfigFolder(file, config.bridge.type);
}

Config loadConfig(const std::string& path) {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos && kv.rfind("MXBRIDGE_", 0) == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return loadConfig(path, env);
}

}  // namespace mxbridge
