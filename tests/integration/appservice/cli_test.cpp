// The command line as an operator meets it: first run, check-config, registration, help.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <regex>

#include "bridge_process.h"
#include "ports.h"
#include "test_checks.h"

namespace mxbridge::test {

namespace {

struct Run {
    std::optional<int> exit;
    std::string output;
};

Run runCli(const std::vector<std::string>& args, const std::filesystem::path& workDir) {
    ProcessOptions options;
    options.argv = {mxbridgeBinary()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.workDir = workDir;
    options.name = "mxbridge";
    Process p(std::move(options));
    Run run;
    run.exit = p.waitExit(20s);
    drainOutput(p);
    for (const auto& line : p.lines()) run.output += line + "\n";
    return run;
}

unsigned modeOf(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777;
}

// The value of a top-level `key:` line of a YAML file.
std::string yamlValue(const std::string& text, const std::string& key) {
    std::smatch m;
    std::regex re("(^|\n)" + key + ":\\s*\"?([^\"\n]*)\"?");
    return std::regex_search(text, m, re) ? m[2].str() : std::string();
}

std::string minimalConfig(const std::string& extra = "") {
    return "homeserver:\n"
           "  url: http://127.0.0.1:8008\n"
           "  server_name: hs.test\n"
           "appservice:\n"
           "  port: 29399\n"
           "  public_url: http://127.0.0.1:29399\n"
           "  registration_file: ./registration.yaml\n" +
           extra +
           "bridge:\n"
           "  type: " + probePlugin() + "\n";
}

// The built-in IRC bridge with `networks` as its section (each line indented by the caller).
// Line numbers: 1-7 as minimalConfig's, 8 "bridge:", 9 "  type: irc", the section from 10.
std::string ircConfig(const std::string& networks) {
    return replaceAll(minimalConfig(), "  type: " + probePlugin() + "\n", "  type: irc\n") + networks;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the first run without a config writes the sample config and a private registration, explains the next steps, and exits 3") {
    TempDir dir("mxbridge-cli");
    Run run = runCli({"run", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << run.output);
    CHECK(run.exit == 3);
    CHECK(std::filesystem::exists(dir / "config.yaml"));
    REQUIRE(std::filesystem::exists(dir / "registration.yaml"));
    CHECK(modeOf(dir / "registration.yaml") == 0600);
    std::string reg = readFile(dir / "registration.yaml");
    CHECK(yamlValue(reg, "as_token").size() >= 32);
    CHECK(yamlValue(reg, "hs_token").size() >= 32);
    CHECK(run.output.find("app_service_config_files") != std::string::npos);
    CHECK(run.output.find("Next steps") != std::string::npos);
}

TEST_CASE("check-config names file and line of an unknown key and of a left-over placeholder, and exits 3") {
    TempDir dir("mxbridge-cli");
    writeFile(dir / "config.yaml",
              "homeserver:\n"                           // 1
              "  url: http://127.0.0.1:8008\n"          // 2
              "  server_name: example.com\n"            // 3: the sample's placeholder
              "appservice:\n"                           // 4
              "  port: 29399\n"                         // 5
              "  publik_url: http://127.0.0.1:29399\n"  // 6: a typo
              "  public_url: http://127.0.0.1:29399\n"  // 7
              "bridge:\n"                               // 8
              "  type: " + probePlugin() + "\n");       // 9
    Run run = runCli({"check-config", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << run.output);
    CHECK(run.exit == 3);
    CHECK(run.output.find("config.yaml:3") != std::string::npos);
    CHECK(run.output.find("config.yaml:6") != std::string::npos);
    CHECK(run.output.find("publik_url") != std::string::npos);

    writeFile(dir / "config.yaml", minimalConfig());
    Run valid = runCli({"check-config", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << valid.output);
    CHECK(valid.exit == 0);
}

TEST_CASE("registration run twice keeps its tokens, and --regenerate-tokens replaces them") {
    TempDir dir("mxbridge-cli");
    writeFile(dir / "config.yaml", minimalConfig());
    Run first = runCli({"registration", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << first.output);
    CHECK(first.exit == 0);
    REQUIRE(std::filesystem::exists(dir / "registration.yaml"));
    CHECK(modeOf(dir / "registration.yaml") == 0600);
    std::string before = readFile(dir / "registration.yaml");
    CHECK(yamlValue(before, "as_token").size() >= 32);
    CHECK(first.output.find("app_service_config_files") != std::string::npos);

    Run second = runCli({"registration", "-c", "config.yaml"}, dir.path());
    CHECK(second.exit == 0);
    std::string after = readFile(dir / "registration.yaml");
    CHECK(yamlValue(after, "as_token") == yamlValue(before, "as_token"));
    CHECK(yamlValue(after, "hs_token") == yamlValue(before, "hs_token"));

    Run regen = runCli({"registration", "-c", "config.yaml", "--regenerate-tokens"}, dir.path());
    CHECK(regen.exit == 0);
    std::string fresh = readFile(dir / "registration.yaml");
    CHECK(yamlValue(fresh, "as_token") != yamlValue(before, "as_token"));
    CHECK(yamlValue(fresh, "hs_token") != yamlValue(before, "hs_token"));
}

TEST_CASE("--help and --version answer and exit 0, a wrong argument exits 2 with the usage") {
    TempDir dir("mxbridge-cli");
    Run help = runCli({"--help"}, dir.path());
    CHECK(help.exit == 0);
    CHECK(help.output.find("Usage:") != std::string::npos);
    CHECK(help.output.find("check-config") != std::string::npos);
    Run version = runCli({"--version"}, dir.path());
    CHECK(version.exit == 0);
    CHECK(std::regex_search(version.output, std::regex("^mxbridge [0-9]+\\.[0-9]+")));
    Run wrong = runCli({"frobnicate"}, dir.path());
    CHECK(wrong.exit == 2);
    CHECK(wrong.output.find("Usage:") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "config.yaml"));
}

}  // namespace mxbridge::test

namespace mxbridge::test {

TEST_CASE("check-config and registration refuse an IRC network without address, a typo'd key and a missing networks list, with file and line, and exit 3") {
    if (!MXBRIDGE_WITH_IRC) {
        MESSAGE("skipped: built with MXBRIDGE_BRIDGE_IRC=OFF");
        return;
    }
    TempDir dir("mxbridge-cli");
    struct Bad {
        std::string section;
        std::vector<std::string> wanted;
    };
    const std::vector<Bad> bad = {
        {"  networks:\n"                   // 10
         "    - name: libera\n"            // 11
         "      adress: irc.libera.chat\n", // 12: a typo
         {"config.yaml:12", "bridge.networks[0].adress", "did you mean \"address\""}},
        {"  networks:\n"
         "    - name: libera\n",           // 11: no address
         {"config.yaml:11", "bridge.networks[0].address", "missing"}},
        {"", {"config.yaml:8", "bridge.networks", "expected at least one network"}},
    };
    for (const Bad& b : bad) {
        writeFile(dir / "config.yaml", ircConfig(b.section));
        for (const char* command : {"check-config", "registration"}) {
            Run run = runCli({command, "-c", "config.yaml"}, dir.path());
            INFO(command << " on\n" << ircConfig(b.section) << "output:\n" << run.output);
            CHECK(run.exit == 3);
            CHECK_FALSE(contains(run.output, "valid"));
            for (const auto& w : b.wanted) {
                INFO("wanted in the output: " << w);
                CHECK(contains(run.output, w));
            }
        }
        CHECK_FALSE(std::filesystem::exists(dir / "registration.yaml"));
    }

    writeFile(dir / "config.yaml", ircConfig("  networks:\n    - name: libera\n      address: irc.libera.chat\n"));
    Run valid = runCli({"check-config", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << valid.output);
    CHECK(valid.exit == 0);
    CHECK(contains(valid.output, "is valid"));
}

TEST_CASE("run and check-config with a config token that differs from registration.yaml exit 5, saying where each is set and never the tokens") {
    TempDir dir("mxbridge-cli");
    writeFile(dir / "config.yaml", minimalConfig());
    REQUIRE(runCli({"registration", "-c", "config.yaml"}, dir.path()).exit == 0);
    // A short start-up timeout: were the conflict missed, run would wait for a homeserver.
    std::string config = minimalConfig("  as_token: as_token_only_in_the_config\n");
    config = replaceAll(config, "  server_name: hs.test\n", "  server_name: hs.test\n  startup_timeout_seconds: 1\n");
    writeFile(dir / "config.yaml", config);  // as_token now on line 9
    for (const char* command : {"run", "check-config"}) {
        Run run = runCli({command, "-c", "config.yaml"}, dir.path());
        INFO(command << " output:\n" << run.output);
        CHECK(run.exit == 5);
        CHECK(contains(run.output, "registration.yaml: as_token differs from appservice.as_token"));
        CHECK(contains(run.output, "config.yaml:9"));
        CHECK_FALSE(contains(run.output, "as_token_only_in_the_config"));
        CHECK_FALSE(contains(run.output, "app_service_config_files"));  // no advice to re-register
    }
}

TEST_CASE("registration -o another file writes the tokens registration_file holds, and refuses where that would split the tokens") {
    TempDir dir("mxbridge-cli");
    writeFile(dir / "config.yaml", minimalConfig());

    // Nothing stored yet: tokens made up for other.yaml would never be the bridge's.
    Run none = runCli({"registration", "-c", "config.yaml", "-o", "other.yaml"}, dir.path());
    INFO("output:\n" << none.output);
    CHECK(none.exit == 5);
    CHECK(contains(none.output, "registration.yaml"));
    CHECK_FALSE(std::filesystem::exists(dir / "other.yaml"));

    REQUIRE(runCli({"registration", "-c", "config.yaml"}, dir.path()).exit == 0);
    std::string stored = readFile(dir / "registration.yaml");
    Run copy = runCli({"registration", "-c", "config.yaml", "-o", "other.yaml"}, dir.path());
    INFO("output:\n" << copy.output);
    CHECK(copy.exit == 0);
    REQUIRE(std::filesystem::exists(dir / "other.yaml"));
    CHECK(modeOf(dir / "other.yaml") == 0600);
    std::string other = readFile(dir / "other.yaml");
    CHECK(yamlValue(other, "as_token") == yamlValue(stored, "as_token"));
    CHECK(yamlValue(other, "hs_token") == yamlValue(stored, "hs_token"));
    CHECK(readFile(dir / "registration.yaml") == stored);

    // A copy holding other tokens (the homeserver may load it) is reported, not overwritten.
    std::string stale = replaceAll(other, yamlValue(other, "as_token"), "as_token_of_an_older_copy");
    writeFile(dir / "stale.yaml", stale);
    Run refused = runCli({"registration", "-c", "config.yaml", "-o", "stale.yaml"}, dir.path());
    INFO("output:\n" << refused.output);
    CHECK(refused.exit == 5);
    CHECK(contains(refused.output, "stale.yaml: holds other tokens than"));
    CHECK(contains(refused.output, "registration.yaml"));
    CHECK(readFile(dir / "stale.yaml") == stale);

    Run regenerate = runCli({"registration", "-c", "config.yaml", "-o", "new.yaml", "--regenerate-tokens"}, dir.path());
    INFO("output:\n" << regenerate.output);
    CHECK(regenerate.exit == 5);
    CHECK(contains(regenerate.output, "registration.yaml"));
    CHECK_FALSE(std::filesystem::exists(dir / "new.yaml"));
    CHECK(readFile(dir / "registration.yaml") == stored);
}

TEST_CASE("run -c /folder/config.yaml from another working directory uses the registration and database beside the config") {
    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(bridgeHomeserverConfig(bridgePort));
    TempDir configDir("mxbridge-cli");
    TempDir elsewhere("mxbridge-cwd");
    std::string bridgeUrl = "http://127.0.0.1:" + std::to_string(bridgePort);
    writeFile(configDir / "config.yaml",
              "homeserver:\n"
              "  url: " + hs.url() + "\n"
              "  server_name: hs.test\n"
              "  startup_timeout_seconds: 10\n"
              "appservice:\n"
              "  port: " + std::to_string(bridgePort) + "\n"
              "  public_url: " + bridgeUrl + "\n"
              "  registration_file: ./registration.yaml\n"
              "  bot_localpart: " + std::string(kBotLocalpart) + "\n"
              "database:\n"
              "  path: ./data/mxbridge.db\n"
              "bridge:\n"
              "  type: " + probePlugin() + "\n");
    // The registration the homeserver holds, beside the config; the config names no tokens.
    writeFile(configDir / "registration.yaml",
              "id: mxbridge\n"
              "url: \"" + bridgeUrl + "\"\n"
              "as_token: \"" + std::string(kAsToken) + "\"\n"
              "hs_token: \"" + std::string(kHsToken) + "\"\n"
              "sender_localpart: \"" + std::string(kBotLocalpart) + "\"\n"
              "namespaces:\n"
              "  users:\n"
              "    - regex: \"^@probe_.+:hs\\\\.test$\"\n"
              "      exclusive: true\n"
              "  aliases: []\n"
              "  rooms: []\n");

    ProcessOptions options;
    options.argv = {mxbridgeBinary(), "run", "-c", (configDir / "config.yaml").string()};
    options.workDir = elsewhere.path();
    options.name = "mxbridge";
    Process bridge(std::move(options));
    bridge.waitForLine("bridge is running", 15s);
    CHECK(std::filesystem::exists(configDir / "data" / "mxbridge.db"));
    CHECK(std::filesystem::is_empty(elsewhere.path()));
    CHECK(bridge.terminate(20s) == 0);
    checkNoSpecViolations(hs);
}

}  // namespace mxbridge::test
