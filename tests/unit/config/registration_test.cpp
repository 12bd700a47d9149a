// Registration: namespaces from templates, render/parse, token generation and keeping.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <regex>

#include "mxbridge/registration.h"
#include "test_files.h"

using namespace mxbridge;

namespace {

Config ircConfig() {
    Config c;
    c.sourceFile = "config.yaml";
    c.homeserver.url = "http://localhost:8008";
    c.homeserver.serverName = "example.org";
    c.appservice.id = "irc";
    c.appservice.publicUrl = "http://localhost:29300";
    c.appservice.botLocalpart = "ircbot";
    return c;
}

const BridgeNamespaceInfo kIrc{"irc_{id}", "irc_{id}", {"irc"}};

bool matches(const std::string& regex, const std::string& id) {
    return std::regex_search(id, std::regex(regex, std::regex::ECMAScript));
}

std::string parseError(const std::string& text) {
    try {
        parseRegistration(text, "reg.yaml");
    } catch (const RegistrationError& e) {
        return e.what();
    }
    return "(no error)";
}

const char* kValidRegistration =
    "id: irc\n"                              // 1
    "url: http://localhost:29300\n"          // 2
    "as_token: aaa\n"                        // 3
    "hs_token: bbb\n"                        // 4
    "sender_localpart: ircbot\n"             // 5
    "namespaces:\n"                          // 6
    "  users:\n"                             // 7
    "    - regex: \"@irc_.*:example\\\\.org\"\n"  // 8
    "      exclusive: true\n";               // 9

}  // namespace

TEST_CASE("ghost and alias regexes escape the server name and are anchored") {
    Registration r = buildRegistration(ircConfig(), kIrc, Secret<std::string>("a"), Secret<std::string>("h"));
    REQUIRE(r.users.size() == 1);
    REQUIRE(r.aliases.size() == 1);
    CHECK(r.users[0].regex == "^@irc_.+:example\\.org$");
    CHECK(r.users[0].exclusive);
    CHECK(r.aliases[0].regex == "^#irc_.+:example\\.org$");
    CHECK(r.rooms.empty());
    CHECK(matches(r.users[0].regex, "@irc_alice:example.org"));
    CHECK_FALSE(matches(r.users[0].regex, "@irc_alice:example.org.evil"));
    CHECK_FALSE(matches(r.users[0].regex, "@irc_alice:exampleXorg"));
    CHECK_FALSE(matches(r.users[0].regex, "@alice:example.org"));
    CHECK(matches(r.aliases[0].regex, "#irc_#matrix:example.org"));
    CHECK(r.id == "irc");
    CHECK(r.url == std::optional<std::string>("http://localhost:29300"));
    CHECK(r.senderLocalpart == "ircbot");
    CHECK(r.protocols == std::vector<std::string>{"irc"});
    CHECK(r.receiveEphemeral);
}

TEST_CASE("config templates override the bridge's defaults, literally") {
    Config c = ircConfig();
    c.appservice.userTemplate = "irc.{id}+x";
    c.appservice.extraUserRegexes = {"@puppet_.*:example\\.org"};
    Registration r = buildRegistration(c, kIrc, Secret<std::string>("a"), Secret<std::string>("h"));
    REQUIRE(r.users.size() == 2);
    CHECK(r.users[0].regex == "^@irc\\..+\\+x:example\\.org$");
    CHECK(matches(r.users[0].regex, "@irc.bob+x:example.org"));
    CHECK_FALSE(matches(r.users[0].regex, "@ircXbob+x:example.org"));
    CHECK(r.users[1] == NamespaceRule{"@puppet_.*:example\\.org", false});
}

TEST_CASE("a rendered registration parses back to the same registration") {
    Config c = ircConfig();
    c.appservice.rateLimited = true;
    Registration r = buildRegistration(c, kIrc, Secret<std::string>("123456"), Secret<std::string>("t\"ok"));
    std::string yaml = renderRegistrationYaml(r);
    CHECK(yaml.find("receive_ephemeral: true") != std::string::npos);
    CHECK(yaml.find("de.sorunome.msc2409.push_ephemeral: true") != std::string::npos);
    Registration back = parseRegistration(yaml, "reg.yaml");
    CHECK(back.id == r.id);
    CHECK(back.url == r.url);
    CHECK(back.asToken.reveal() == "123456");  // a numeric token stays a string
    CHECK(back.hsToken.reveal() == "t\"ok");
    CHECK(back.senderLocalpart == r.senderLocalpart);
    CHECK(back.users == r.users);
    CHECK(back.aliases == r.aliases);
    CHECK(back.rooms.empty());
    CHECK(back.rateLimited);
    CHECK(back.protocols == r.protocols);
    CHECK(back.receiveEphemeral);

    r.url.reset();
    r.receiveEphemeral = false;
    yaml = renderRegistrationYaml(r);
    CHECK(yaml.find("push_ephemeral") == std::string::npos);
    back = parseRegistration(yaml, "reg.yaml");
    CHECK_FALSE(back.url.has_value());
    CHECK_FALSE(back.receiveEphemeral);
}

TEST_CASE("only the older push_ephemeral key still turns ephemeral events on") {
    Registration r = parseRegistration(std::string(kValidRegistration) + "de.sorunome.msc2409.push_ephemeral: true\n", "r");
    CHECK(r.receiveEphemeral);
}

TEST_CASE("tokens are 64 hex characters and never repeat") {
    std::string a = generateToken(), b = generateToken();
    CHECK(a.size() == 64);
    CHECK(std::regex_match(a, std::regex("[0-9a-f]{64}")));
    CHECK(a != b);
}

TEST_CASE("invalid registration files are rejected with line numbers") {
    CHECK(parseError(kValidRegistration) == "(no error)");
    std::string noId = kValidRegistration;
    test::replaceAll(noId, "id: irc\n", "");
    CHECK(parseError(noId) == "reg.yaml:1: id: missing; expected a string");

    std::string badRegex = kValidRegistration;
    test::replaceAll(badRegex, "\"@irc_.*:example\\\\.org\"", "\"@irc_(.*\"");
    CHECK(parseError(badRegex).find("reg.yaml:8: namespaces.users[0].regex: expected a regular expression, got \"@irc_(.*\"") == 0);

    std::string notBool = kValidRegistration;
    test::replaceAll(notBool, "exclusive: true", "exclusive: \"true\"");
    CHECK(parseError(notBool) == "reg.yaml:9: namespaces.users[0].exclusive: expected true or false, got \"true\"");

    std::string several = kValidRegistration;
    test::replaceAll(several, "as_token: aaa", "as_token: [aaa]");
    test::replaceAll(several, "      exclusive: true\n", "");
    CHECK(parseError(several) ==
          "reg.yaml:3: as_token: expected a string, got a list\n"
          "reg.yaml:8: namespaces.users[0].exclusive: missing; expected true or false");

    // Found by fuzz_config: both were accepted, the duplicate silently dropped, and a token
    // that is not UTF-8 came back from renderRegistrationYaml() with U+FFFD in it.
    std::string duplicate = kValidRegistration;
    test::replaceAll(duplicate, "id: irc\n", "id: irc\nid: xmpp\n");
    CHECK(parseError(duplicate) == "reg.yaml:2: id: duplicate key (first at line 1)");
    std::string notUtf8 = kValidRegistration;
    test::replaceAll(notUtf8, "as_token: aaa", "as_token: a\xe3" "a");
    CHECK(parseError(notUtf8) == "reg.yaml:3: as_token: expected UTF-8 text, got \"a\xef\xbf\xbd" "a\"");
    CHECK(parseError("id: [unclosed\n").find("reg.yaml:2: not valid YAML") == 0);
    CHECK(parseError("- a\n") .find("reg.yaml:1: expected a map") == 0);
}

TEST_CASE("ensureRegistration writes once and keeps the tokens afterwards") {
    test::TempDir dir;
    std::string path = dir.file("registration.yaml");
    Config c = ircConfig();
    Registration first = ensureRegistration(c, kIrc, path, false);
    CHECK(first.asToken.reveal().size() == 64);
    CHECK_FALSE(first.asToken == first.hsToken);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(loadRegistrationFile(path).asToken == first.asToken);

    // A config change refreshes namespaces but keeps the tokens.
    c.appservice.userTemplate = "irc-{id}";
    Registration second = ensureRegistration(c, kIrc, path, false);
    CHECK(second.asToken == first.asToken);
    CHECK(second.hsToken == first.hsToken);
    CHECK(loadRegistrationFile(path).users[0].regex == "^@irc-.+:example\\.org$");

    Registration third = ensureRegistration(c, kIrc, path, true);
    CHECK_FALSE(third.asToken == first.asToken);
    CHECK_FALSE(third.hsToken == first.hsToken);
    CHECK(loadRegistrationFile(path).hsToken == third.hsToken);
    CHECK(effectiveAsToken(c, third) == third.asToken);
}

TEST_CASE("tokens from the config are used on first run and must match the file later") {
    test::TempDir dir;
    std::string path = dir.file("registration.yaml");
    Config c = ircConfig();
    c.appservice.asToken = Secret<std::string>("configured-as");
    Registration r = ensureRegistration(c, kIrc, path, false);
    CHECK(r.asToken.reveal() == "configured-as");
    CHECK(r.hsToken.reveal().size() == 64);
    CHECK(ensureRegistration(c, kIrc, path, false).hsToken == r.hsToken);

    c.appservice.asToken = Secret<std::string>("something-else");
    CHECK_THROWS_AS(ensureRegistration(c, kIrc, path, false), RegistrationError);
    try {
        ensureRegistration(c, kIrc, path, false);
    } catch (const RegistrationError& e) {
        std::string msg = e.what();
        CHECK(msg.find("as_token differs from appservice.as_token") != std::string::npos);
        CHECK(msg.find("something-else") == std::string::npos);  // never echo a secret
        CHECK(msg.find("configured-as") == std::string::npos);
    }
    CHECK_THROWS_AS(ensureRegistration(c, kIrc, path, true), RegistrationError);
    CHECK(effectiveAsToken(c, r).reveal() == "something-else");
}

TEST_CASE("a broken registration file is reported, not overwritten") {
    test::TempDir dir;
    std::string path = dir.write("registration.yaml", "id: irc\n");
    CHECK_THROWS_AS(ensureRegistration(ircConfig(), kIrc, path, false), RegistrationError);
    CHECK(test::readFile(path) == "id: irc\n");
}

TEST_CASE("a config token that differs from the registration file is refused, naming where it is set and never its value") {
    test::TempDir dir;
    std::string path = dir.file("registration.yaml");
    Registration stored = ensureRegistration(ircConfig(), kIrc, path, false);
    std::string configFile = dir.write("config.yaml",
        "homeserver:\n"                          // 1
        "  url: http://localhost:8008\n"         // 2
        "  server_name: chat.test\n"             // 3
        "appservice:\n"                          // 4
        "  public_url: http://localhost:29300\n" // 5
        "  hs_token: hs-token-only-here\n"       // 6
        "bridge:\n"                              // 7
        "  type: irc\n");                        // 8
    Config c = loadConfig(configFile, {});
    std::string msg;
    try {
        checkTokensAgree(c, stored, path);
    } catch (const RegistrationError& e) {
        msg = e.what();
    }
    CHECK(msg.find(path + ": hs_token differs from appservice.hs_token (set at " + configFile + ":6)") == 0);
    CHECK(msg.find("hs-token-only-here") == std::string::npos);
    CHECK(msg.find(stored.hsToken.reveal()) == std::string::npos);

    c.appservice.hsToken = stored.hsToken;  // the same value in both is fine
    CHECK_NOTHROW(checkTokensAgree(c, stored, path));
    c.appservice.hsToken = Secret<std::string>();  // and so is none in the config
    CHECK_NOTHROW(checkTokensAgree(c, stored, path));
}

TEST_CASE("exportRegistration writes another file with the tokens of the stored registration") {
    test::TempDir dir;
    std::string stored = dir.file("registration.yaml");
    std::string copy = dir.file("for-the-homeserver.yaml");
    Config c = ircConfig();
    Registration original = ensureRegistration(c, kIrc, stored, false);
    Registration exported = exportRegistration(c, kIrc, stored, copy);
    CHECK(exported.asToken == original.asToken);
    CHECK(exported.hsToken == original.hsToken);
    CHECK(loadRegistrationFile(copy).asToken == original.asToken);
    struct stat st {};
    REQUIRE(::stat(copy.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // Run again (after a config change) it refreshes the copy and keeps the tokens.
    c.appservice.userTemplate = "irc-{id}";
    CHECK(exportRegistration(c, kIrc, stored, copy).hsToken == original.hsToken);
    CHECK(loadRegistrationFile(copy).users[0].regex == "^@irc-.+:example\\.org$");
}

TEST_CASE("exportRegistration refuses where the homeserver's copy and the bridge would hold different tokens") {
    test::TempDir dir;
    std::string stored = dir.file("registration.yaml");
    std::string copy = dir.file("copy.yaml");
    Config c = ircConfig();

    // Nothing stored and no tokens in the config: whatever it wrote, `run` would not use.
    CHECK_THROWS_AS(exportRegistration(c, kIrc, stored, copy), RegistrationError);
    CHECK_FALSE(std::filesystem::exists(copy));

    // Nothing stored but both tokens in the config: `run` uses those, so the copy gets them.
    Config pinned = c;
    pinned.appservice.asToken = Secret<std::string>("pinned-as");
    pinned.appservice.hsToken = Secret<std::string>("pinned-hs");
    CHECK(exportRegistration(pinned, kIrc, stored, copy).asToken.reveal() == "pinned-as");
    CHECK_FALSE(std::filesystem::exists(stored));

    // A copy holding other tokens than the stored registration is reported, not overwritten.
    ensureRegistration(c, kIrc, stored, false);
    std::string before = test::readFile(copy);
    std::string msg;
    try {
        exportRegistration(c, kIrc, stored, copy);
    } catch (const RegistrationError& e) {
        msg = e.what();
    }
    CHECK(msg.find(copy + ": holds other tokens than " + stored) == 0);
    CHECK(msg.find("pinned-as") == std::string::npos);
    CHECK(test::readFile(copy) == before);
}
