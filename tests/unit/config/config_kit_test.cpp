// The bridge-kit keys: appservice.admins, database.secret_key, the provisioning section and
// the remote section (settings for a bridge's connections to its network, whatever the bridge).
#include <doctest/doctest.h>

#include "mxbridge/config.h"
#include "test_files.h"

using namespace mxbridge;
using mxbridge::test::TempDir;
using mxbridge::test::loadError;

namespace {

// Line numbers below are this text's.
const char* kBase =
    "homeserver:\n"                            // 1
    "  url: http://localhost:8008\n"           // 2
    "  server_name: chat.test\n"               // 3
    "appservice:\n"                            // 4
    "  public_url: http://localhost:29300\n"   // 5
    "bridge:\n"                                // 6
    "  type: echo\n";                          // 7

Config load(const std::string& text, const std::map<std::string, std::string>& env = {}) {
    TempDir dir;
    return loadConfig(dir.write("cfg.yaml", text), env);
}

const std::string kKey = "0123456789abcdef0123456789abcdef";  // 32 characters

}  // namespace

TEST_CASE("the kit keys default to no admins, no secret key and provisioning off") {
    Config c = load(kBase);
    CHECK(c.appservice.admins.empty());
    CHECK(c.database.secretKey.empty());
    CHECK_FALSE(c.provisioning.enabled);
    CHECK(c.provisioning.sharedSecret.empty());
}

TEST_CASE("admins are user ids or regexes, and a bad regex names its list item") {
    std::string text = std::string(kBase) + "";
    text.insert(text.find("bridge:"), "  admins: [\"@alice:chat.test\", \"@.*:ops.test\"]\n");
    Config c = load(text);
    CHECK(c.appservice.admins == std::vector<std::string>{"@alice:chat.test", "@.*:ops.test"});

    std::string bad = kBase;
    bad.insert(bad.find("bridge:"), "  admins:\n    - \"@ok:chat.test\"\n    - \"@(oops:chat.test\"\n");
    CHECK(loadError(bad).find("cfg.yaml:8: appservice.admins[1]: expected a Matrix user id like "
                              "\"@alice:example.org\" or a regex like \"@.*:example.org\", got "
                              "\"@(oops:chat.test\"") == 0);
}

TEST_CASE("database.secret_key needs 32 characters and is never echoed") {
    std::string text = std::string(kBase) + "database:\n  secret_key: " + kKey + "\n";
    CHECK(load(text).database.secretKey.reveal() == kKey);
    std::string err = loadError(std::string(kBase) + "database:\n  secret_key: short-key\n");
    CHECK(err == "cfg.yaml:9: database.secret_key: expected at least 32 characters (e.g. `openssl "
                 "rand -hex 32`), got 9");
    CHECK(err.find("short-key") == std::string::npos);
}

TEST_CASE("the secret key comes from MXBRIDGE_DATABASE_SECRET_KEY_FILE") {
    TempDir dir;
    std::string keyFile = dir.write("db_key", kKey + "\n");
    Config c = load(kBase, {{"MXBRIDGE_DATABASE_SECRET_KEY_FILE", keyFile}});
    CHECK(c.database.secretKey.reveal() == kKey);
    CHECK(load(kBase, {{"MXBRIDGE_DATABASE_SECRET_KEY", kKey}}).database.secretKey.reveal() == kKey);
}

TEST_CASE("provisioning needs a shared secret of 16+ characters once enabled") {
    CHECK(loadError(std::string(kBase) + "provisioning:\n  enabled: true\n") ==
          "cfg.yaml:8: provisioning.shared_secret: missing; expected a secret of at least 16 "
          "characters while provisioning.enabled is true (or MXBRIDGE_PROVISIONING_SHARED_SECRET_FILE)");
    CHECK(loadError(std::string(kBase) + "provisioning:\n  enabled: true\n  shared_secret: tiny\n") ==
          "cfg.yaml:10: provisioning.shared_secret: expected at least 16 characters, got 4");
    Config c = load(std::string(kBase) + "provisioning:\n  enabled: true\n  shared_secret: a-long-enough-secret\n");
    CHECK(c.provisioning.enabled);
    CHECK(c.provisioning.sharedSecret.reveal() == "a-long-enough-secret");
    // Disabled, a short (or absent) secret is no problem.
    CHECK_FALSE(load(std::string(kBase) + "provisioning:\n  shared_secret: x\n").provisioning.enabled);
}

TEST_CASE("provisioning keys are checked and overridable from the environment") {
    CHECK(loadError(std::string(kBase) + "provisioning:\n  enable: true\n") ==
          "cfg.yaml:9: provisioning.enable: unknown key; did you mean \"enabled\"?");
    TempDir dir;
    std::string secretFile = dir.write("prov", "from-a-mounted-secret\n");
    Config c = load(kBase, {{"MXBRIDGE_PROVISIONING_ENABLED", "true"},
                            {"MXBRIDGE_PROVISIONING_SHARED_SECRET_FILE", secretFile},
                            {"MXBRIDGE_APPSERVICE_ADMINS", "[\"@root:chat.test\"]"}});
    CHECK(c.provisioning.enabled);
    CHECK(c.provisioning.sharedSecret.reveal() == "from-a-mounted-secret");
    CHECK(c.appservice.admins == std::vector<std::string>{"@root:chat.test"});
    CHECK(loadError(kBase, {{"MXBRIDGE_PROVISIONING_SHARED_SECRT", "x"}}) ==
          "env MXBRIDGE_PROVISIONING_SHARED_SECRT: no configuration key provisioning.shared_secrt; "
          "did you mean provisioning.shared_secret?");
}

TEST_CASE("a drop is quiet for 60 s unless remote.transient_grace_seconds says otherwise") {
    CHECK(load(kBase).remote.transientGraceSeconds == 60);
    CHECK(load(std::string(kBase) + "remote:\n  transient_grace_seconds: 5\n").remote.transientGraceSeconds == 5);
    CHECK(load(std::string(kBase) + "remote:\n  transient_grace_seconds: 0\n").remote.transientGraceSeconds == 0);
    CHECK(load(kBase, {{"MXBRIDGE_REMOTE_TRANSIENT_GRACE_SECONDS", "15"}}).remote.transientGraceSeconds == 15);
}

TEST_CASE("a negative or absurd grace, or a typo'd key in remote, is refused with file:line") {
    std::string negative = loadError(std::string(kBase) + "remote:\n  transient_grace_seconds: -1\n");
    CHECK(negative.find("cfg.yaml:9: remote.transient_grace_seconds") == 0);
    std::string huge = loadError(std::string(kBase) + "remote:\n  transient_grace_seconds: 1000000\n");
    CHECK(huge.find("cfg.yaml:9: remote.transient_grace_seconds") == 0);
    std::string typo = loadError(std::string(kBase) + "remote:\n  transient_grace: 5\n");
    CHECK(typo.find("cfg.yaml:9: remote.transient_grace") == 0);
}

TEST_CASE("the sample config documents remote.transient_grace_seconds with its default") {
    std::string sample = sampleConfigText();
    CHECK(sample.find("remote:\n") != std::string::npos);
    CHECK(sample.find("  transient_grace_seconds: 60\n") != std::string::npos);
}

TEST_CASE("logins: idle clients are kept unless login.idle_minutes says, and a question waits 120 s") {
    CHECK(load(kBase).login.idleMinutes == 0);
    CHECK(load(kBase).login.stepTimeoutSeconds == 120);
    Config c = load(std::string(kBase) + "login:\n  idle_minutes: 30\n  step_timeout_seconds: 300\n");
    CHECK(c.login.idleMinutes == 30);
    CHECK(c.login.stepTimeoutSeconds == 300);
    CHECK(load(kBase, {{"MXBRIDGE_LOGIN_IDLE_MINUTES", "5"}}).login.idleMinutes == 5);
    CHECK(loadError(std::string(kBase) + "login:\n  step_timeout_seconds: 1\n")
              .find("cfg.yaml:9: login.step_timeout_seconds") == 0);
    CHECK(loadError(std::string(kBase) + "login:\n  idle_minute: 5\n").find("cfg.yaml:9: login.idle_minute") == 0);
}
