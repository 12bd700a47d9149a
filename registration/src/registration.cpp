// Registration file: built from the config, rendered for the homeserver, validated on load,
// and written once with CSPRNG tokens that are kept from then on.
#include "mxbridge/registration.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "yaml_tree.h"

namespace mxbridge {
namespace {

using nlohmann::json;

const Logger& log() {
    static const Logger logger("registration");
    return logger;
}

std::string escapeRegex(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (std::strchr("\\^$.|?*+()[]{}", c)) out += '\\';
        out += c;
    }
    return out;
}

// "irc_{id}" -> "irc_.+"; characters around {id} are matched literally.
std::string templateRegex(const std::string& tpl) {
    size_t at = tpl.find("{id}");
    if (at == std::string::npos) return escapeRegex(tpl);
    return escapeRegex(tpl.substr(0, at)) + ".+" + escapeRegex(tpl.substr(at + 4));
}

// Collects schema violations for one document, each with its line.
class Checker {
public:
    Checker(const std::string& source, const detail::YamlTree& tree)
        : root_(tree.value, "", source, tree.lines, tree.provenance) {}

    void error(const std::string& path, const std::string& message) {
        errors_.push_back(root_.where(path) + ": " + path + ": " + message);
    }
    static std::string got(const json& v) {
        if (v.is_string()) return detail::quoted(v.get<std::string>());
        if (v.is_array()) return "a list";
        if (v.is_object()) return "a map";
        if (v.is_null()) return "null";
        return v.dump();
    }
    // Required-ness and type of one key; returns the value if it has the type.
    const json* field(const json& parent, const std::string& parentPath, const std::string& key,
                      json::value_t type, const char* expected, bool required, bool nullable = false) {
        std::string path = detail::joinPath(parentPath, key);
        if (!parent.contains(key)) {
            if (required) error(parentPath.empty() ? key : path, std::string("missing; expected ") + expected);
            return nullptr;
        }
        const json& v = parent[key];
        if (nullable && v.is_null()) return &v;
        bool ok = type == json::value_t::number_integer ? v.is_number_integer() : v.type() == type;
        if (!ok) {
            error(path, std::string("expected ") + expected + ", got " + got(v));
            return nullptr;
        }
        return &v;
    }
    const std::vector<std::string>& errors() const { return errors_; }

private:
    ConfigSection root_;
    std::vector<std::string> errors_;
};

std::vector<NamespaceRule> parseNamespaceList(Checker& check, const json& namespaces, const std::string& key) {
    std::vector<NamespaceRule> rules;
    const json* list = check.field(namespaces, "namespaces", key, json::value_t::array, "a list of namespaces", false);
    if (!list) return rules;
    for (size_t i = 0; i < list->size(); ++i) {
        std::string path = "namespaces." + key + "[" + std::to_string(i) + "]";
        const json& item = (*list)[i];
        if (!item.is_object()) {
            check.error(path, "expected a map with regex and exclusive, got " + Checker::got(item));
            continue;
        }
        const json* regex = check.field(item, path, "regex", json::value_t::string, "a regular expression string", true);
        const json* exclusive = check.field(item, path, "exclusive", json::value_t::boolean, "true or false", true);
        std::string why;
        if (regex && !detail::regexCompiles(regex->get<std::string>(), why)) {
            check.error(path + ".regex", "expected a regular expression, got " + Checker::got(*regex) + " (" + why + ")");
            regex = nullptr;
        }
        if (regex && exclusive) rules.push_back({regex->get<std::string>(), exclusive->get<bool>()});
    }
    return rules;
}

void writeFileAtomically(const std::string& path, const std::string& text) {
    namespace fs = std::filesystem;
    fs::path target(path);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw RegistrationError(path + ": cannot create a temporary file beside it: " + std::strerror(errno));
    auto failWith = [&](const char* what) {
        int err = errno;
        ::close(fd);
        ::unlink(tmpl.c_str());
        throw RegistrationError(path + ": " + what + ": " + std::strerror(err));
    };
    // The file holds both tokens: only the bridge's user may read it.
    if (::fchmod(fd, 0600) != 0) failWith("cannot set mode 0600");
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) failWith("cannot write");
        p += n;
        left -= static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) failWith("cannot fsync");
    ::close(fd);
    if (::rename(tmpl.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmpl.c_str());
        throw RegistrationError(path + ": cannot replace: " + std::strerror(err));
    }
    // The rename itself must reach the disk, or a crash could bring back no file at all.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

std::string readText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Writes `r` to `path` unless the file already says exactly that (`current`).
void writeIfChanged(const std::string& path, const Registration& r, const std::string& current,
                    bool existed, bool regenerated) {
    std::string text = renderRegistrationYaml(r);
    if (text == current) return;
    writeFileAtomically(path, text);
    if (!existed) log().info("wrote a new registration; give it to the homeserver", {{"file", path}});
    else if (regenerated) log().warn("generated new tokens; reload the registration on the homeserver", {{"file", path}});
    else log().warn("updated the registration from the config (tokens kept); reload it on the homeserver",
                    {{"file", path}});
}

}  // namespace

std::string generateToken() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        char reason[256];
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        throw std::runtime_error(std::string("cannot generate a token: OpenSSL RAND_bytes failed: ") + reason);
    }
    static const char* digits = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) {
        token += digits[b >> 4];
        token += digits[b & 15];
    }
    return token;
}

Registration buildRegistration(const Config& config, const BridgeNamespaceInfo& bridge,
                               Secret<std::string> asToken, Secret<std::string> hsToken) {
    Registration r;
    r.id = config.appservice.id;
    r.url = config.appservice.publicUrl;
    r.asToken = std::move(asToken);
    r.hsToken = std::move(hsToken);
    r.senderLocalpart = config.appservice.botLocalpart;
    std::string server = ":" + escapeRegex(config.homeserver.serverName) + "$";
    const auto& userTpl = config.appservice.userTemplate.empty() ? bridge.defaultUserTemplate
                                                                 : config.appservice.userTemplate;
    const auto& aliasTpl = config.appservice.aliasTemplate.empty() ? bridge.defaultAliasTemplate
                                                                   : config.appservice.aliasTemplate;
    // Anchored at both ends: Synapse uses re.match, which anchors only the start, so without
    // '$' "@irc_x:example.org" would also claim users of "example.org.evil".
    if (!userTpl.empty()) r.users.push_back({"^@" + templateRegex(userTpl) + server, true});
    for (const auto& extra : config.appservice.extraUserRegexes) r.users.push_back({extra, false});
    if (!aliasTpl.empty()) r.aliases.push_back({"^#" + templateRegex(aliasTpl) + server, true});
    r.rateLimited = config.appservice.rateLimited;
    r.protocols = bridge.protocols;
    r.receiveEphemeral = config.appservice.receiveEphemeral;
    return r;
}

std::string renderRegistrationYaml(const Registration& r) {
    // Written by hand with every string double-quoted (JSON escaping is valid YAML), so a
    // token of digits or a regex with backslashes reads back exactly, in any YAML reader.
    auto q = [](const std::string& s) { return detail::quoted(s); };
    auto rules = [&](const std::vector<NamespaceRule>& list) {
        if (list.empty()) return std::string(" []\n");
        std::string out = "\n";
        for (const auto& rule : list)
            out += "    - regex: " + q(rule.regex) + "\n      exclusive: " + (rule.exclusive ? "true" : "false") + "\n";
        return out;
    };
    std::string y;
    y += "# Appservice registration written by `mxbridge registration`. Give it to the homeserver\n";
    y += "# (Synapse: app_service_config_files) and restart it. It holds both tokens: keep it private.\n";
    y += "id: " + q(r.id) + "\n";
    y += "url: " + (r.url ? q(*r.url) : std::string("null")) + "\n";
    y += "as_token: " + q(r.asToken.reveal()) + "\n";
    y += "hs_token: " + q(r.hsToken.reveal()) + "\n";
    y += "sender_localpart: " + q(r.senderLocalpart) + "\n";
    y += "rate_limited: " + std::string(r.rateLimited ? "true" : "false") + "\n";
    y += "namespaces:\n";
    y += "  users:" + rules(r.users);
    y += "  aliases:" + rules(r.aliases);
    y += "  rooms:" + rules(r.rooms);
    y += "protocols: [";
    for (size_t i = 0; i < r.protocols.size(); ++i) y += (i ? ", " : "") + q(r.protocols[i]);
    y += "]\n";
    y += "receive_ephemeral: " + std::string(r.receiveEphemeral ? "true" : "false") + "\n";
    if (r.receiveEphemeral) {
        y += "# The same for Synapse before spec 1.13 (MSC2409).\n";
        y += "de.sorunome.msc2409.push_ephemeral: true\n";
    }
    return y;
}

Registration parseRegistration(const std::string& yamlText, const std::string& sourceName) {
    detail::YamlTree tree;
    try {
        tree.value = detail::convertYaml(YAML::Load(yamlText), "", 1, sourceName, tree);
    } catch (const YAML::Exception& e) {
        throw RegistrationError(sourceName + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
    if (!tree.value.is_object())
        throw RegistrationError(sourceName + ":1: expected a map with id, url, as_token, hs_token, "
                                             "sender_localpart and namespaces");
    tree.lines[""] = 1;  // a missing top-level key is reported at the top of the file
    Checker check(sourceName, tree);
    const json& doc = tree.value;
    Registration r;
    using T = json::value_t;
    if (auto v = check.field(doc, "", "id", T::string, "a string", true)) r.id = v->get<std::string>();
    if (auto v = check.field(doc, "", "url", T::string, "a URL string or null", true, true))
        if (v->is_string()) r.url = v->get<std::string>();
    if (auto v = check.field(doc, "", "as_token", T::string, "a string", true)) r.asToken = Secret(v->get<std::string>());
    if (auto v = check.field(doc, "", "hs_token", T::string, "a string", true)) r.hsToken = Secret(v->get<std::string>());
    if (auto v = check.field(doc, "", "sender_localpart", T::string, "a string", true))
        r.senderLocalpart = v->get<std::string>();
    if (auto v = check.field(doc, "", "rate_limited", T::boolean, "true or false", false)) r.rateLimited = v->get<bool>();
    if (auto v = check.field(doc, "", "receive_ephemeral", T::boolean, "true or false", false))
        r.receiveEphemeral = v->get<bool>();
    if (auto v = check.field(doc, "", "de.sorunome.msc2409.push_ephemeral", T::boolean, "true or false", false))
        r.receiveEphemeral = r.receiveEphemeral || v->get<bool>();
    if (auto v = check.field(doc, "", "protocols", T::array, "a list of strings", false)) {
        for (size_t i = 0; i < v->size(); ++i) {
            if ((*v)[i].is_string()) r.protocols.push_back((*v)[i].get<std::string>());
            else check.error("protocols[" + std::to_string(i) + "]", "expected a string, got " + Checker::got((*v)[i]));
        }
    }
    if (auto ns = check.field(doc, "", "namespaces", T::object, "a map with users, aliases and rooms", true)) {
        r.users = parseNamespaceList(check, *ns, "users");
        r.aliases = parseNamespaceList(check, *ns, "aliases");
        r.rooms = parseNamespaceList(check, *ns, "rooms");
    }
    if (r.asToken.empty() || r.hsToken.empty()) {
        if (doc.contains("as_token") && doc["as_token"] == "") check.error("as_token", "expected a token, got \"\"");
        if (doc.contains("hs_token") && doc["hs_token"] == "") check.error("hs_token", "expected a token, got \"\"");
    }
    // What reading the YAML found (duplicate keys, text that is not UTF-8) comes first.
    std::vector<std::string> errors = tree.errors;
    errors.insert(errors.end(), check.errors().begin(), check.errors().end());
    if (!errors.empty()) {
        std::string all;
        for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
        throw RegistrationError(all);
    }
    return r;
}

Registration loadRegistrationFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RegistrationError(path + ": cannot read the registration file: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return parseRegistration(text.str(), path);
}

Registration ensureRegistration(const Config& config, const BridgeNamespaceInfo& bridge,
                                const std::string& path, bool regenerate) {
    const auto& cfgAs = config.appservice.asToken;
    const auto& cfgHs = config.appservice.hsToken;
    bool exists = std::filesystem::exists(path);

    if (regenerate && (!cfgAs.empty() || !cfgHs.empty()))
        throw RegistrationError(path + ": --regenerate-tokens while appservice.as_token/hs_token are set in " +
                                config.sourceFile + " (or the environment): remove them there first, or the "
                                "bridge would keep using the old ones");

    Secret<std::string> as, hs;
    std::string current;
    if (exists && !regenerate) {
        Registration existing = loadRegistrationFile(path);
        checkTokensAgree(config, existing, path);
        as = existing.asToken;
        hs = existing.hsToken;
        current = readText(path);
    } else {
        as = !cfgAs.empty() && !regenerate ? cfgAs : Secret<std::string>(generateToken());
        hs = !cfgHs.empty() && !regenerate ? cfgHs : Secret<std::string>(generateToken());
    }

    Registration r = buildRegistration(config, bridge, as, hs);
    writeIfChanged(path, r, current, exists, regenerate);
    return r;
}

void checkTokensAgree(const Config& config, const Registration& registration, const std::string& path) {
    auto check = [&](const std::string& key, const Secret<std::string>& configured,
                     const Secret<std::string>& stored) {
        if (configured.empty() || configured == stored) return;
        std::string where = config.origins.where("appservice." + key);
        if (where.empty()) where = config.sourceFile.empty() ? "the config" : config.sourceFile;
        throw RegistrationError(
            path + ": " + key + " differs from appservice." + key + " (set at " + where + "). The "
            "homeserver authenticates with the registration file's token and the bridge would use "
            "the config's. Remove appservice." + key + " from the config (the file's token is then "
            "used) or put the same value in both; for new tokens, remove it and run `mxbridge "
            "registration --regenerate-tokens`, then reload the registration on the homeserver");
    };
    check("as_token", config.appservice.asToken, registration.asToken);
    check("hs_token", config.appservice.hsToken, registration.hsToken);
}

Registration exportRegistration(const Config& config, const BridgeNamespaceInfo& bridge,
                                const std::string& registrationFile, const std::string& output) {
    const auto& cfgAs = config.appservice.asToken;
    const auto& cfgHs = config.appservice.hsToken;
    Secret<std::string> as, hs;
    std::string tokensFrom;
    if (std::filesystem::exists(registrationFile)) {
        Registration stored = loadRegistrationFile(registrationFile);
        checkTokensAgree(config, stored, registrationFile);
        as = stored.asToken;
        hs = stored.hsToken;
        tokensFrom = registrationFile;
    } else if (!cfgAs.empty() && !cfgHs.empty()) {
        // Without the file `run` takes both tokens from the config.
        as = cfgAs;
        hs = cfgHs;
        tokensFrom = "appservice.as_token/hs_token in " + config.sourceFile;
    } else {
        throw RegistrationError(
            output + ": not written: `mxbridge run` reads its tokens from " + registrationFile +
            " (appservice.registration_file), which does not exist yet, so tokens made up for " +
            output + " would never be the bridge's. Run `mxbridge registration -c " + config.sourceFile +
            "` without -o first; -o then copies that file's tokens");
    }
    bool existed = std::filesystem::exists(output);
    std::string current;
    if (existed) {
        Registration there = loadRegistrationFile(output);
        if (!(there.asToken == as) || !(there.hsToken == hs))
            throw RegistrationError(
                output + ": holds other tokens than " + tokensFrom + ", which `mxbridge run` uses; "
                "not overwritten. If the homeserver loads " + output + ", the two disagree: delete " +
                output + " and run this again to write it with the bridge's tokens, then reload the "
                "registration on the homeserver");
        current = readText(output);
    }
    Registration r = buildRegistration(config, bridge, as, hs);
    writeIfChanged(output, r, current, existed, false);
    return r;
}

Secret<std::string> effectiveAsToken(const Config& config, const Registration& registration) {
    return config.appservice.asToken.empty() ? registration.asToken : config.appservice.asToken;
}

Secret<std::string> effectiveHsToken(const Config& config, const Registration& registration) {
    return config.appservice.hsToken.empty() ? registration.hsToken : config.appservice.hsToken;
}

}  // namespace mxbridge
