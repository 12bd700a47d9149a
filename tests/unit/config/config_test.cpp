// loadConfig(): the sample, every class of error with its exact location, env overrides.
#include <doctest/doctest.h>

#include "mxbridge/config.h"
#include "test_files.h"

using namespace mxbridge;

// LogLevel comparisons sit in double parentheses: doctest stringifies operands through an
// unqualified toString(), and ADL picks mxbridge::toString(LogLevel), which returns a
// string_view doctest can't concatenate.
using mxbridge::test::TempDir;
using mxbridge::test::loadError;

namespace {

// Line numbers below are this text's.
const char* kValid =
    "homeserver:\n"                            // 1
    "  url: http://localhost:8008\n"           // 2
    "  server_name: chat.test\n"               // 3
    "appservice:\n"                            // 4
    "  public_url: http://localhost:29300\n"   // 5
    "  port: 29300\n"                          // 6
    "bridge:\n"                                // 7
    "  type: echo\n";                          // 8

std::string with(std::string text, const std::string& after, const std::string& insert) {
    auto at = text.find(after);
    REQUIRE(at != std::string::npos);
    text.insert(at + after.size(), insert);
    return text;
}

}  // namespace

TEST_CASE("the sample config loads once its placeholders are replaced") {
    std::string sample = sampleConfigText();
    test::replaceAll(sample, "example.com", "chat.mxbridge.test");
    TempDir dir;
    Config c = loadConfig(dir.write("config.yaml", sample), {});
    CHECK(c.homeserver.url == "https://matrix.chat.mxbridge.test");
    CHECK(c.homeserver.serverName == "chat.mxbridge.test");
    CHECK(c.appservice.port == 29300);
    CHECK(c.appservice.asToken.empty());
    CHECK(c.database.path == "./data/mxbridge.db");
    CHECK(c.database.durability == Durability::ProcessCrash);
    CHECK((c.logging.level == LogLevel::Info));
    CHECK(c.bridge.type == "echo");
    CHECK(c.appservice.maxBodyBytes == 64u * 1024 * 1024);
}

TEST_CASE("sampleConfigText() is the text of config/mxbridge.sample.yaml") {
    CHECK(sampleConfigText() == test::readFile(std::string(MXBRIDGE_SOURCE_DIR) + "/config/mxbridge.sample.yaml"));
}

TEST_CASE("the unedited sample is refused, naming each placeholder's line") {
    std::string sample = sampleConfigText();
    auto lineOf = [&](const std::string& needle) {
        auto at = sample.find(needle);
        return std::to_string(1 + std::count(sample.begin(), sample.begin() + static_cast<long>(at), '\n'));
    };
    std::string err = loadError(sample);
    CHECK(err.find("cfg.yaml:" + lineOf("  url: https://matrix.example.com") +
                   ": homeserver.url: expected your own value, got the sample's placeholder "
                   "\"https://matrix.example.com\"; edit it") != std::string::npos);
    CHECK(err.find("cfg.yaml:" + lineOf("  server_name: example.com") + ": homeserver.server_name:") != std::string::npos);
}

TEST_CASE("a minimal config gets the documented defaults") {
    TempDir dir;
    Config c = loadConfig(dir.write("cfg.yaml", kValid), {});
    CHECK(c.appservice.id == "mxbridge");
    CHECK(c.appservice.bindAddress == "127.0.0.1");
    CHECK(c.appservice.registrationFile == "./registration.yaml");
    CHECK(c.appservice.dispatchWorkers == 4);
    CHECK(c.appservice.receiveEphemeral);
    CHECK(c.homeserver.startupTimeout == std::chrono::seconds(60));
    CHECK(c.metrics.enabled);
    CHECK(c.metrics.port == 0);
    CHECK(c.sourceFile.find("cfg.yaml") != std::string::npos);
}

TEST_CASE("an unknown key is reported with its line, path and a suggestion") {
    CHECK(loadError(with(kValid, "  port: 29300\n", "  prot: 1\n")) ==
          "cfg.yaml:7: appservice.prot: unknown key; did you mean \"port\"?");
    CHECK(loadError(with(kValid, "  type: echo\n", "loging:\n  level: debug\n")) ==
          "cfg.yaml:9: loging: unknown key; did you mean \"logging\"?");
}

TEST_CASE("keys inside the bridge section are left to the bridge") {
    TempDir dir;
    Config c = loadConfig(dir.write("cfg.yaml", with(kValid, "  type: echo\n", "  anything: 1\n")), {});
    CHECK(c.bridge.section.getInt("anything", 0, 0, 10) == 1);
    CHECK_FALSE(c.bridge.section.has("type"));
}

TEST_CASE("a wrong type is reported with line, path, expectation and the value") {
    std::string text = kValid;
    test::replaceAll(text, "port: 29300", "port: http");
    CHECK(loadError(text) == "cfg.yaml:6: appservice.port: expected an integer 1-65535, got \"http\"");
    text = with(kValid, "  port: 29300\n", "  allow_query_token: yes\n");
    CHECK(loadError(text) == "cfg.yaml:7: appservice.allow_query_token: expected true or false, got \"yes\"");
}

TEST_CASE("out-of-range numbers are reported against their bounds") {
    std::string text = kValid;
    test::replaceAll(text, "port: 29300", "port: 70000");
    CHECK(loadError(text) == "cfg.yaml:6: appservice.port: expected an integer 1-65535, got 70000");
    CHECK(loadError(with(kValid, "  port: 29300\n", "  dispatch_workers: 0\n")) ==
          "cfg.yaml:7: appservice.dispatch_workers: expected an integer 1-64, got 0");
    CHECK(loadError(with(kValid, "  port: 29300\n", "  max_body_bytes: 10\n")).find(
              "cfg.yaml:7: appservice.max_body_bytes: expected an integer 1024-") == 0);
}

TEST_CASE("a missing required value is reported at its section's line") {
    std::string text = kValid;
    test::replaceAll(text, "  server_name: chat.test\n", "");
    CHECK(loadError(text) == "cfg.yaml:1: homeserver.server_name: missing; expected a non-empty string");
    text = kValid;
    test::replaceAll(text, "bridge:\n  type: echo\n", "");
    CHECK(loadError(text) == "cfg.yaml: bridge.type: missing; expected a non-empty string");
}

// Found by fuzz_config: the checks after a failed child() used an unnamed section, so the
// report had lines like ": type: missing" that named neither the file nor the section.
TEST_CASE("a section that is not a map is reported, and every other message still names the file") {
    std::string text = kValid;
    test::replaceAll(text, "bridge:\n  type: echo\n", "bridge: [echo]\n");
    std::string err = loadError(text);
    CHECK(err.find("cfg.yaml:7: bridge: expected a map of keys, got a list") != std::string::npos);
    CHECK(err.find("bridge.type: missing") != std::string::npos);
    text = kValid;
    test::replaceAll(text, "homeserver:\n  url: http://localhost:8008\n  server_name: chat.test\n",
                     "homeserver: 5\n");
    err = loadError(text);
    CHECK(err.find("cfg.yaml:1: homeserver: expected a map of keys, got 5") != std::string::npos);
    CHECK(err.find("homeserver.url: missing") != std::string::npos);
    for (std::string rest = err + "\n"; !rest.empty(); rest.erase(0, rest.find('\n') + 1)) {
        CAPTURE(rest.substr(0, rest.find('\n')));
        CHECK(rest.rfind("cfg.yaml:", 0) == 0);
    }
}

TEST_CASE("a bad regex is reported with the line of the list item") {
    std::string text = with(kValid, "  port: 29300\n", "  extra_user_regexes:\n    - \"@ok_.*\"\n    - \"@(unclosed\"\n");
    std::string err = loadError(text);
    CHECK(err.find("cfg.yaml:9: appservice.extra_user_regexes[1]: expected a regular expression, got \"@(unclosed\"") == 0);
}

TEST_CASE("templates need {id} exactly once and localpart characters") {
    CHECK(loadError(with(kValid, "  port: 29300\n", "  user_template: irc_{id}_{id}\n")) ==
          "cfg.yaml:7: appservice.user_template: expected a template containing {id} exactly once, like "
          "\"irc_{id}\", got \"irc_{id}_{id}\"");
    CHECK(loadError(with(kValid, "  port: 29300\n", "  user_template: IRC_{id}\n")).find(
              "cfg.yaml:7: appservice.user_template: expected only user id localpart characters") == 0);
    CHECK(loadError(with(kValid, "  port: 29300\n", "  alias_template: irc\n")).find(
              "cfg.yaml:7: appservice.alias_template: expected a template containing {id}") == 0);
}

TEST_CASE("the homeserver url must be http(s)://host[:port]") {
    std::string text = kValid;
    test::replaceAll(text, "http://localhost:8008", "localhost:8008");
    CHECK(loadError(text) == "cfg.yaml:2: homeserver.url: expected an http(s)://host[:port] URL, got \"localhost:8008\"");
    text = kValid;
    test::replaceAll(text, "http://localhost:8008", "https://[::1]:8448/");
    TempDir dir;
    CHECK(loadConfig(dir.write("cfg.yaml", text), {}).homeserver.url == "https://[::1]:8448/");
}

TEST_CASE("several errors are all reported at once, in file order") {
    std::string text = kValid;
    test::replaceAll(text, "port: 29300", "port: -1");
    test::replaceAll(text, "server_name: chat.test", "server_name: [a]");
    text += "database:\n  durability: sometimes\n";
    std::string err = loadError(text);
    CHECK(err ==
          "cfg.yaml:3: homeserver.server_name: expected a string, got a list\n"
          "cfg.yaml:6: appservice.port: expected an integer 1-65535, got -1\n"
          "cfg.yaml:10: database.durability: expected process_crash or power_loss, got \"sometimes\"");
}

TEST_CASE("invalid YAML and duplicate keys are reported with their line") {
    CHECK(loadError(std::string(kValid) + "  type: [unclosed\n").find("cfg.yaml:10: not valid YAML") == 0);
    CHECK(loadError(with(kValid, "  port: 29300\n", "  port: 29301\n")) ==
          "cfg.yaml:7: appservice.port: duplicate key (first at line 6)");
}

TEST_CASE("text that is not UTF-8 is reported with its line") {
    std::string text = kValid;
    test::replaceAll(text, "server_name: chat.test", "server_name: chat\xff.test");
    CHECK(loadError(text).find("cfg.yaml:3: homeserver.server_name: expected UTF-8 text, got \"chat\xef\xbf\xbd.test\"") == 0);
    CHECK(loadError(with(kValid, "  port: 29300\n", "  p\xc3rt: 1\n")) ==
          "cfg.yaml:7: appservice: expected a UTF-8 key, got \"p\xef\xbf\xbdrt\"");
}

TEST_CASE("logging, database and metrics sections are read") {
    TempDir dir;
    std::string text = std::string(kValid) +
                       "database:\n  path: /var/lib/mxbridge/db\n  durability: power_loss\n"
                       "logging:\n  level: warn\n  json: true\n  components:\n    journal: debug\n"
                       "metrics:\n  enabled: false\n  port: 9100\n";
    Config c = loadConfig(dir.write("cfg.yaml", text), {});
    CHECK(c.database.path == "/var/lib/mxbridge/db");
    CHECK(c.database.durability == Durability::PowerLoss);
    CHECK((c.logging.level == LogLevel::Warn));
    CHECK(c.logging.json);
    CHECK((c.logging.components.at("journal") == LogLevel::Debug));
    CHECK_FALSE(c.metrics.enabled);
    CHECK(c.metrics.port == 9100);
    CHECK(loadError(std::string(kValid) + "logging:\n  components:\n    journal: loud\n") ==
          "cfg.yaml:11: logging.components.journal: expected trace, debug, info, warn, error or off, got \"loud\"");
}

TEST_CASE("an environment variable overrides a key, typed like YAML") {
    TempDir dir;
    std::string path = dir.write("cfg.yaml", kValid);
    Config c = loadConfig(path, {{"MXBRIDGE_APPSERVICE_PORT", "29400"},
                                 {"MXBRIDGE_APPSERVICE_BIND_ADDRESS", "0.0.0.0"},
                                 {"MXBRIDGE_APPSERVICE_HS_TOKEN", "0123"},
                                 {"MXBRIDGE_LOGGING_COMPONENTS_JOURNAL", "trace"},
                                 {"MXBRIDGE_APPSERVICE_EXTRA_USER_REGEXES", "[\"@a_.*\", \"@b_.*\"]"},
                                 {"MXBRIDGE_DATABASE_DURABILITY", "power_loss"},
                                 {"MXBRIDGE_SPEC_DIR", "/not/a/config/key"},
                                 {"HOME", "/root"}});
    CHECK(c.appservice.port == 29400);
    CHECK(c.appservice.bindAddress == "0.0.0.0");
    CHECK(c.appservice.hsToken.reveal() == "0123");  // as written, not the number 123
    CHECK((c.logging.components.at("journal") == LogLevel::Trace));
    CHECK(c.appservice.extraUserRegexes == std::vector<std::string>{"@a_.*", "@b_.*"});
    CHECK(c.database.durability == Durability::PowerLoss);
}

TEST_CASE("a key whose name ends in _file is set directly, not read from a file") {
    TempDir dir;
    Config c = loadConfig(dir.write("cfg.yaml", kValid), {{"MXBRIDGE_APPSERVICE_REGISTRATION_FILE", "/etc/reg.yaml"}});
    CHECK(c.appservice.registrationFile == "/etc/reg.yaml");
}

TEST_CASE("a secret comes from the file named by the _FILE variable, without its newline") {
    TempDir dir;
    std::string secret = dir.write("as_token", "s3cr3t-token\n");
    Config c = loadConfig(dir.write("cfg.yaml", kValid), {{"MXBRIDGE_APPSERVICE_AS_TOKEN_FILE", secret}});
    CHECK(c.appservice.asToken.reveal() == "s3cr3t-token");

    std::string err = loadError(kValid, {{"MXBRIDGE_APPSERVICE_AS_TOKEN_FILE", dir.file("missing")}});
    CHECK(err.find("env MXBRIDGE_APPSERVICE_AS_TOKEN_FILE: appservice.as_token: cannot read ") == 0);
    err = loadError(kValid, {{"MXBRIDGE_APPSERVICE_AS_TOKEN_FILE", secret}, {"MXBRIDGE_APPSERVICE_AS_TOKEN", "x"}});
    CHECK(err.find("both MXBRIDGE_APPSERVICE_AS_TOKEN and MXBRIDGE_APPSERVICE_AS_TOKEN_FILE are set") != std::string::npos);
}

TEST_CASE("a wrongly typed environment value names the variable instead of a line") {
    CHECK(loadError(kValid, {{"MXBRIDGE_APPSERVICE_PORT", "http"}}) ==
          "env MXBRIDGE_APPSERVICE_PORT: appservice.port: expected an integer 1-65535, got \"http\"");
    TempDir dir;
    std::string portFile = dir.write("port", "abc\n");
    CHECK(loadError(kValid, {{"MXBRIDGE_APPSERVICE_PORT_FILE", portFile}}) ==
          "env MXBRIDGE_APPSERVICE_PORT_FILE (" + portFile + "): appservice.port: expected an integer 1-65535, got \"abc\"");
}

TEST_CASE("a misspelt environment variable for a core section is an error with a suggestion") {
    CHECK(loadError(kValid, {{"MXBRIDGE_APPSERVICE_PROT", "1"}}) ==
          "env MXBRIDGE_APPSERVICE_PROT: no configuration key appservice.prot; did you mean appservice.port?");
}

TEST_CASE("environment variables reach the bridge section, including existing list items") {
    TempDir dir;
    std::string text = with(kValid, "  type: echo\n",
                            "  networks:\n    - name: libera\n      address: irc.libera.chat\n");
    Config c = loadConfig(dir.write("cfg.yaml", text), {{"MXBRIDGE_BRIDGE_NETWORKS_0_ADDRESS", "127.0.0.1"},
                                                       {"MXBRIDGE_BRIDGE_NICK_PREFIX", "m_"},
                                                       {"MXBRIDGE_BRIDGE_TYPE", "irc"}});
    CHECK(c.bridge.type == "irc");
    CHECK(c.bridge.section.getString("nick_prefix", "") == "m_");
    auto networks = c.bridge.section.childList("networks");
    REQUIRE(networks.size() == 1);
    CHECK(networks[0].getString("address", "") == "127.0.0.1");
    CHECK(networks[0].getString("name", "") == "libera");
    // Errors about an overridden value point at the variable.
    CHECK_THROWS_WITH_AS(networks[0].getInt("address", 0, 0, 1),
                         "env MXBRIDGE_BRIDGE_NETWORKS_0_ADDRESS: bridge.networks[0].address: expected an integer 0-1, got \"127.0.0.1\"",
                         ConfigError);
}

TEST_CASE("environment overrides work for sections missing from the file") {
    TempDir dir;
    Config c = loadConfig(dir.write("cfg.yaml", kValid), {{"MXBRIDGE_METRICS_PORT", "9100"}});
    CHECK(c.metrics.port == 9100);
}

TEST_CASE("an alias inside its own anchor is refused with an error, not followed forever") {
    // Found by fuzz_config: yaml-cpp accepts the cycle, and walking it overflowed the stack.
    std::string self = std::string(kValid) + "bridge_extra: &loop\n  again: *loop\n";
    CHECK(loadError(self).find("nested too deep or too large") != std::string::npos);
    std::string twice = std::string(kValid) + "bridge_extra: &loop\n  a: *loop\n  b: *loop\n";
    CHECK(loadError(twice).find("nested too deep or too large") != std::string::npos);
    // The fuzzer's own input: the alias names the section it sits in.
    std::string found = "homeserver: typo\nappserice: &as\n  pgging: *as\nbridgmetrics:\n  e: [echo]\n";
    CHECK(loadError(found).find("nested too deep or too large") != std::string::npos);
}

TEST_CASE("a key with a control character is reported escaped, on one line") {
    // Found by fuzz_config: "as_toke\n" as a quoted key split the message in two.
    std::string text = std::string(kValid) + "\"odd\\nkey\": 1\n";
    std::string error = loadError(text);
    CHECK(error.find(": (top level): expected a key without control characters, got \"odd\\nkey\"") !=
          std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
}

TEST_CASE("media links are on by default; a short signing key, a public_url that is no URL and a lifetime out of range are refused") {
    TempDir dir;
    Config c = loadConfig(dir.write("cfg.yaml", kValid), {});
    CHECK(c.media.enabled);
    CHECK(c.media.publicUrl.empty());
    CHECK(c.media.signingKey.empty());
    CHECK(c.media.linkLifetimeDays == 0);
    CHECK(c.media.maxBytes == 50u * 1024 * 1024);
    Config set = loadConfig(dir.write("set.yaml", std::string(kValid) +
                                                      "media:\n  public_url: https://bridge.chat.test\n"
                                                      "  signing_key: 0123456789abcdef0123456789abcdef\n"
                                                      "  link_lifetime_days: 7\n  max_bytes: 1000\n"),
                            {});
    CHECK(set.media.publicUrl == "https://bridge.chat.test");
    CHECK(set.media.linkLifetimeDays == 7);
    CHECK(set.media.maxBytes == 1000);
    const std::string err = loadError(std::string(kValid) + "media:\n  signing_key: short\n");
    CHECK(err.find("media.signing_key: expected at least 32 characters") != std::string::npos);
    CHECK(err.find("short") == std::string::npos);  // a key is never echoed
    CHECK(loadError(std::string(kValid) + "media:\n  public_url: bridge.chat.test\n")
              .find("media.public_url: expected an http:// or https:// URL") != std::string::npos);
    CHECK(loadError(std::string(kValid) + "media:\n  link_lifetime_days: -1\n").find("media.link_lifetime_days") !=
          std::string::npos);
}
