// The `mxbridge` command line: run, registration, check-config, list-bridges.
#include "mxbridge/app.h"

#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "mxbridge/config.h"
#include "mxbridge/connector.h"
#include "mxbridge/registration.h"
#include "runtime.h"

#ifndef MXBRIDGE_VERSION
#define MXBRIDGE_VERSION "0.0.0"
#endif

namespace mxbridge {

namespace {

constexpr const char* kUsage = R"(mxbridge — Matrix application-service bridges

Usage:
  mxbridge run [-c CONFIG]                 run the bridge (first run writes a sample config
                                           and the registration file, then exits)
  mxbridge registration [-c CONFIG] [-o FILE] [--regenerate-tokens]
                                           write the registration file for the homeserver;
                                           keeps existing tokens unless asked
  mxbridge check-config [-c CONFIG]        validate the config and registration, then exit
  mxbridge list-bridges                    the bridge types this build knows
  mxbridge --help | --version

CONFIG defaults to ./config.yaml. Every config key can be overridden from the environment
(MXBRIDGE_<SECTION>_<KEY>, e.g. MXBRIDGE_APPSERVICE_PORT=29400); secrets may come from files
(MXBRIDGE_APPSERVICE_AS_TOKEN_FILE=/run/secrets/as_token).
)";

struct Args {
    std::string command;
    std::string config = "config.yaml";
    std::string output;
    bool regenerate = false;
};

std::optional<Args> parseArgs(int argc, char** argv, std::string& error) {
    Args args;
    std::vector<std::string> rest(argv + 1, argv + argc);
    for (size_t i = 0; i < rest.size(); ++i) {
        const std::string& a = rest[i];
        auto value = [&](const char* flag) -> std::optional<std::string> {
            if (i + 1 >= rest.size()) {
                error = std::string(flag) + " needs a value";
                return std::nullopt;
            }
            return rest[++i];
        };
        if (a == "-h" || a == "--help" || a == "help") args.command = "help";
        else if (a == "--version" || a == "version") args.command = "version";
        else if (a == "-c" || a == "--config") {
            auto v = value("-c");
            if (!v) return std::nullopt;
            args.config = *v;
        } else if (a == "-o" || a == "--output") {
            auto v = value("-o");
            if (!v) return std::nullopt;
            args.output = *v;
        } else if (a == "--regenerate-tokens") args.regenerate = true;
        else if (args.command.empty() && !a.empty() && a[0] != '-') args.command = a;
        else {
            error = "unknown argument '" + a + "'";
            return std::nullopt;
        }
    }
    if (args.command.empty()) args.command = "help";
    static const std::set<std::string> known = {"run", "registration", "check-config",
                                                "list-bridges", "help", "version"};
    if (!known.count(args.command)) {
        error = "unknown command '" + args.command + "'";
        return std::nullopt;
    }
    return args;
}

// bridge.type names a built-in bridge, or a path to a plug-in built against the installed
// framework (it registers itself when loaded).
std::unique_ptr<Connector> loadConnector(const std::string& type) {
    if (auto c = ConnectorRegistry::create(type)) return c;
    if (type.find('/') == std::string::npos && type.find(".so") == std::string::npos) {
        std::string names;
        for (const auto& [name, _] : ConnectorRegistry::list()) names += (names.empty() ? "" : ", ") + name;
        throw StartupError(kExitBridge, "bridge.type '" + type + "' is not a known bridge (known: " +
                                            names + "; or give the path of a plug-in .so)");
    }
    uint64_t before = ConnectorRegistry::generation();
    void* handle = dlopen(type.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) throw StartupError(kExitBridge, std::string("cannot load bridge plug-in: ") + dlerror());
    if (ConnectorRegistry::generation() != before) {
        if (int version = ConnectorRegistry::lastApiVersion(); version != pluginApiVersion())
            throw StartupError(kExitBridge,
                               "plug-in " + type + " was built against mxbridge plug-in API " +
                                   (version == 0 ? std::string("without a version (before 2)") : std::to_string(version)) +
                                   ", and this mxbridge has plug-in API " + std::to_string(pluginApiVersion()) +
                                   ": rebuild it against this mxbridge's installed package");
        return ConnectorRegistry::create(ConnectorRegistry::lastAdded());
    }
    throw StartupError(kExitBridge, "plug-in " + type + " registered no bridge (it needs a "
                                    "MXBRIDGE_BRIDGE(...) line)");
}

BridgeNamespaceInfo namespaceInfo(const Connector& connector) {
    BridgeInfo info = connector.info();
    return BridgeNamespaceInfo{info.defaultUserTemplate, info.defaultAliasTemplate, info.protocols};
}

// What every command needs first: the config with its relative paths taken from its folder,
// the bridge it names, and that bridge's own check of its section (where it has one), so
// check-config and registration refuse exactly what run would refuse.
struct LoadedBridge {
    Config config;
    std::unique_ptr<Connector> connector;
};

LoadedBridge loadBridge(const std::string& configPath) {
    Config config = loadConfig(configPath);
    resolvePathsFromConfigFolder(config);
    std::unique_ptr<Connector> connector = loadConnector(config.bridge.type);
    if (const auto* validator = dynamic_cast<const ConfigValidator*>(connector.get()))
        validator->validateConfig(config.bridge.section);
    return LoadedBridge{std::move(config), std::move(connector)};
}

bool sameFile(const std::string& a, const std::string& b) {
    namespace fs = std::filesystem;
    return fs::weakly_canonical(fs::absolute(a)) == fs::weakly_canonical(fs::absolute(b));
}

void applyLogging(const Config& config) {
    LogConfig::setDefaultLevel(config.logging.level);
    LogConfig::setJson(config.logging.json);
    for (const auto& [component, level] : config.logging.components)
        LogConfig::setComponentLevel(component, level);
}

int firstRun(const Args& args) {
    std::string configPath = args.config;
    {
        std::ofstream out(configPath);
        out << sampleConfigText();
        if (!out) {
            std::cerr << "mxbridge: cannot write a sample config to " << configPath << "\n";
            return kExitConfig;
        }
    }
    Config sample = loadConfigAllowingPlaceholders(configPath);
    resolvePathsFromConfigFolder(sample);
    auto connector = loadConnector(sample.bridge.type);
    std::string regPath = sample.appservice.registrationFile;
    Registration reg = ensureRegistration(sample, namespaceInfo(*connector), regPath, false);
    std::string absConfig = std::filesystem::absolute(configPath).lexically_normal().string();
    std::string absReg = std::filesystem::absolute(regPath).lexically_normal().string();
    std::cout << "mxbridge: no config found, so this first run wrote two files:\n"
              << "  " << absConfig << "   (the bridge's config, commented)\n"
              << "  " << absReg << "   (the registration for your homeserver, with fresh tokens)\n\n"
              << "Next steps:\n"
              << "  1. Edit " << configPath << ": set homeserver.url and homeserver.server_name to\n"
              << "     your homeserver's, appservice.public_url to an address it can reach this\n"
              << "     bridge at (now " << sample.appservice.publicUrl << "), and the bridge: section.\n"
              << "  2. Refresh the registration (keeps its tokens):\n"
              << "       mxbridge registration -c " << configPath << "\n"
              << "  3. Give the homeserver the registration: for Synapse, copy " << regPath << "\n"
              << "     to the homeserver and list it in homeserver.yaml:\n"
              << "       app_service_config_files:\n"
              << "         - /path/to/" << std::filesystem::path(regPath).filename().string() << "\n"
              << "     then restart Synapse.\n"
              << "  4. Start the bridge: mxbridge run -c " << configPath << "\n";
    return kExitConfig;
}

int commandRun(const Args& args) {
    if (!std::filesystem::exists(args.config)) return firstRun(args);
    auto [config, connector] = loadBridge(args.config);
    applyLogging(config);
    Registration reg;
    if (std::filesystem::exists(config.appservice.registrationFile)) {
        reg = loadRegistrationFile(config.appservice.registrationFile);
        // The homeserver holds the file's tokens: running on other ones from the config would
        // only end in a refused whoami, with advice to register what is already registered.
        checkTokensAgree(config, reg, config.appservice.registrationFile);
    } else if (!config.appservice.asToken.empty() && !config.appservice.hsToken.empty()) {
        // Tokens supplied by the operator (e.g. from container secrets): the registration the
        // homeserver holds was made elsewhere; derive ours from the config.
        reg = buildRegistration(config, namespaceInfo(*connector), config.appservice.asToken,
                                config.appservice.hsToken);
    } else {
        throw StartupError(kExitRegistration,
                           config.appservice.registrationFile + " does not exist and the config "
                           "sets no tokens: run `mxbridge registration -c " + args.config + "` first");
    }

    // Signals are taken by this thread with sigwait; every thread started from here on
    // inherits the mask, so none of them is interrupted by SIGTERM.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    Runtime runtime(std::move(config), std::move(reg), std::move(connector));
    runtime.start();
    int sig = 0;
    sigwait(&signals, &sig);
    Logger("runtime").info("stopping: draining in-flight work", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    runtime.stop();
    Logger("runtime").info("stopped cleanly");
    return kExitOk;
}

int commandRegistration(const Args& args) {
    auto [config, connector] = loadBridge(args.config);
    const std::string& stored = config.appservice.registrationFile;
    // -o naming another file: a copy for the homeserver, with the tokens `run` reads from
    // the stored one, or the homeserver and the bridge would hold different tokens.
    bool copy = !args.output.empty() && !sameFile(args.output, stored);
    std::string path = copy ? args.output : stored;
    bool existed = std::filesystem::exists(path);
    Registration reg;
    if (copy) {
        if (args.regenerate)
            throw RegistrationError(args.output + ": --regenerate-tokens with -o would put new tokens "
                                    "only into " + args.output + ", while `mxbridge run` keeps reading "
                                    "the old ones from " + stored + " (appservice.registration_file): "
                                    "regenerate without -o, then copy that file");
        reg = exportRegistration(config, namespaceInfo(*connector), stored, args.output);
    } else {
        reg = ensureRegistration(config, namespaceInfo(*connector), stored, args.regenerate);
    }
    std::cout << (existed ? (args.regenerate ? "regenerated tokens in " : "updated ") : "wrote ")
              << path << " for appservice '" << reg.id << "'"
              << (copy ? ", with the tokens the bridge uses" : "") << ".\n"
              << "Copy it to your homeserver, list it under app_service_config_files in "
                 "homeserver.yaml (Synapse), and restart the homeserver.\n";
    return kExitOk;
}

int commandCheckConfig(const Args& args) {
    auto [config, connector] = loadBridge(args.config);
    if (std::filesystem::exists(config.appservice.registrationFile)) {
        Registration reg = loadRegistrationFile(config.appservice.registrationFile);
        checkTokensAgree(config, reg, config.appservice.registrationFile);
        std::cout << args.config << " and " << config.appservice.registrationFile << " are valid.\n";
    } else {
        std::cout << args.config << " is valid; " << config.appservice.registrationFile
                  << " does not exist yet (mxbridge registration -c " << args.config << ").\n";
    }
    return kExitOk;
}

}  // namespace

int runMain(int argc, char** argv) {
    std::string error;
    auto args = parseArgs(argc, argv, error);
    if (!args) {
        std::cerr << "mxbridge: " << error << "\n\n" << kUsage;
        return kExitUsage;
    }
    try {
        if (args->command == "help") {
            std::cout << kUsage;
            return kExitOk;
        }
        if (args->command == "version") {
            std::cout << "mxbridge " << MXBRIDGE_VERSION << "\n";
            return kExitOk;
        }
        if (args->command == "list-bridges") {
            for (const auto& [name, description] : ConnectorRegistry::list())
                std::cout << name << "\t" << description << "\n";
            return kExitOk;
        }
        if (args->command == "run") return commandRun(*args);
        if (args->command == "registration") return commandRegistration(*args);
        if (args->command == "check-config") return commandCheckConfig(*args);
    } catch (const RegistrationError& e) {
        std::cerr << "mxbridge: registration error:\n" << e.what() << "\n";
        return kExitRegistration;
    } catch (const ConfigError& e) {
        std::cerr << "mxbridge: config error:\n" << e.what() << "\n";
        return kExitConfig;
    } catch (const StartupError& e) {
        std::cerr << "mxbridge: " << e.what() << "\n";
        return e.code();
    } catch (const std::exception& e) {
        std::cerr << "mxbridge: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitUsage;
}

}  // namespace mxbridge
