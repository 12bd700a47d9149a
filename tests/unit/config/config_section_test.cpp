// ConfigSection: the getters bridges use on their own section.
#include <doctest/doctest.h>

#include "mxbridge/config.h"
#include "test_files.h"

using namespace mxbridge;

namespace {

ConfigSection bridgeSection(test::TempDir& dir, const std::string& body) {
    std::string text =
        "homeserver:\n  url: http://localhost:8008\n  server_name: chat.test\n"   // 1-3
        "appservice:\n  public_url: http://localhost:29300\n"                      // 4-5
        "bridge:\n  type: irc\n" + body;                                          // 6-7, body from 8
    return loadConfig(dir.write("cfg.yaml", text), {}).bridge.section;
}

std::string errorOf(const std::function<void()>& f, const std::string& dir) {
    try {
        f();
    } catch (const ConfigError& e) {
        std::string m = e.what();
        test::replaceAll(m, dir, "");
        return m;
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("typed getters return values and fall back when a key is absent") {
    test::TempDir dir;
    auto s = bridgeSection(dir, "  nick: bot\n  retries: 3\n  tls: true\n  channels: [\"#a\", \"#b\"]\n");
    CHECK(s.path() == "bridge");
    CHECK(s.has("nick"));
    CHECK_FALSE(s.has("absent"));
    CHECK(s.getString("nick", "x") == "bot");
    CHECK(s.getString("absent", "x") == "x");
    CHECK(s.requireString("nick") == "bot");
    CHECK(s.getInt("retries", 0, 0, 10) == 3);
    CHECK(s.getInt("absent", 7, 0, 10) == 7);
    CHECK(s.getBool("tls", false));
    CHECK(s.getStringList("channels") == std::vector<std::string>{"#a", "#b"});
    CHECK(s.getStringList("absent").empty());
    CHECK(s.child("absent").raw().empty());
    CHECK(s.raw()["retries"] == 3);
}

TEST_CASE("getter errors name the file, line and full key path") {
    test::TempDir dir;
    auto s = bridgeSection(dir, "  retries: 30\n  tls: maybe\n  networks:\n    - name: libera\n      port: x\n");
    std::string d = dir.file("");
    CHECK(errorOf([&] { s.getInt("retries", 0, 0, 10); }, d) == "cfg.yaml:8: bridge.retries: expected an integer 0-10, got 30");
    CHECK(errorOf([&] { s.getBool("tls", false); }, d) == "cfg.yaml:9: bridge.tls: expected true or false, got \"maybe\"");
    CHECK(errorOf([&] { s.requireString("server"); }, d) == "cfg.yaml:6: bridge.server: missing; expected a non-empty string");
    CHECK(errorOf([&] { s.child("retries"); }, d) == "cfg.yaml:8: bridge.retries: expected a map of keys, got 30");
    auto networks = s.childList("networks");
    REQUIRE(networks.size() == 1);
    CHECK(networks[0].path() == "bridge.networks[0]");
    CHECK(errorOf([&] { networks[0].getInt("port", 6667, 1, 65535); }, d) ==
          "cfg.yaml:12: bridge.networks[0].port: expected an integer 1-65535, got \"x\"");
    CHECK(errorOf([&] { networks[0].fail("name", "no such network"); }, d) ==
          "cfg.yaml:11: bridge.networks[0].name: no such network");
    CHECK(errorOf([&] { s.childList("tls"); }, d) == "cfg.yaml:9: bridge.tls: expected a list of maps, got \"maybe\"");
}

TEST_CASE("rejectUnknownKeys lists every unknown key in one error") {
    test::TempDir dir;
    auto s = bridgeSection(dir, "  nick: bot\n  nikc_prefix: m_\n  colour: red\n");
    CHECK(errorOf([&] { s.rejectUnknownKeys({"nick", "nick_prefix", "networks"}); }, dir.file("")) ==
          "cfg.yaml:9: bridge.nikc_prefix: unknown key; did you mean \"nick_prefix\"?\n"
          "cfg.yaml:10: bridge.colour: unknown key; expected one of: nick nick_prefix networks");
    CHECK_NOTHROW(s.rejectUnknownKeys({"nick", "nikc_prefix", "colour"}));
}

TEST_CASE("a plain number is accepted where a string is expected, as written") {
    test::TempDir dir;
    auto s = bridgeSection(dir, "  password: 007\n");
    CHECK(s.getString("password", "") == "007");
}
