// The database file under a running bridge (issue 9, items 17 and 18): one bridge process per
// database, a database deleted while running noticed, files private to the bridge's user,
// and a warning for a config file with secrets that others may read.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "bridge_process.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

unsigned modeOf(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// The usual umask of a login shell, whatever the test runner's was; restored afterwards.
struct Umask022 {
    mode_t saved = ::umask(022);
    ~Umask022() { ::umask(saved); }
};

}  // namespace

TEST_CASE("a second mxbridge on the same database exits 8 naming the running one's pid, which goes on unharmed") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    BridgeSettings second = env.bridge->settings();
    second.port = 0;  // a port of its own: only the database is shared
    second.databasePath = env.bridge->dbPath().string();
    BridgeProcess other(second);
    other.start();
    auto exit = other.waitExit(20s);
    std::string out = other.output();
    INFO("second instance:\n" << out);
    CHECK(exit == 8);
    CHECK(out.find("pid " + std::to_string(env.bridge->process().pid())) != std::string::npos);
    CHECK(out.find("database.path") != std::string::npos);
    CHECK(out.find("bridge is running") == std::string::npos);

    AsClient client(env.bridge->port());
    CHECK(client.get("/health").status == 200);
    json body = {{"events", json::array({timelineEvent("$after", "!r:hs.test", "@alice:hs.test")})}};
    CHECK(putTransaction(client, "after-second", body.dump()).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$after") == 1; }));
    CHECK(env.bridge->stop() == 0);
    // Once the first has stopped, the database is free for the next one (on the port the
    // homeserver pings).
    other.settings().port = env.bridge->port();
    other.start();
    other.waitRunning();
    CHECK(other.stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a database deleted under a running bridge stops transactions being acknowledged, and /health says why") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    json before = {{"events", json::array({timelineEvent("$before", "!r:hs.test", "@alice:hs.test")})}};
    REQUIRE(putTransaction(client, "before", before.dump()).status == 200);

    const std::string db = env.bridge->dbPath().string();
    for (const std::string suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);

    json after = {{"events", json::array({timelineEvent("$after", "!r:hs.test", "@alice:hs.test")})}};
    AsResponse refused = putTransaction(client, "after", after.dump());
    INFO(env.bridge->lastLines());
    CHECK(refused.status >= 500);  // not acknowledged: the homeserver keeps it and retries
    AsResponse health = client.get("/health");
    CHECK(health.status == 503);
    json why = json::parse(health.body, nullptr, false);
    CHECK(why.value("problem", "").find("database file deleted or replaced") != std::string::npos);
    CHECK(env.bridge->output().find("deleted or replaced") != std::string::npos);
    // Still refused later: no transaction goes into the unlinked file.
    CHECK(putTransaction(client, "after", after.dump()).status >= 500);
    env.bridge->stop();
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("under umask 022 the data folder is 0700 and the database with its -wal and -shm files 0600") {
    Umask022 umask;
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::filesystem::path db = env.bridge->dbPath();
    CHECK(modeOf(db.parent_path()) == 0700);
    for (const std::string suffix : {"", "-wal", "-shm", ".lock"}) {
        INFO("file " << db.string() + suffix);
        CHECK(modeOf(db.string() + suffix) == 0600);
    }
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a config file holding the tokens that other users may read is warned about at start") {
    Umask022 umask;  // the harness writes the config 0644 then
    BridgedHomeserver env;
    env.bridge->startRunning();
    REQUIRE(modeOf(env.bridge->configPath()) == 0644);
    std::string out = env.bridge->output();
    INFO(out);
    CHECK(out.find("holds secrets and other users may read it") != std::string::npos);
    CHECK(out.find("appservice.as_token") != std::string::npos);
    CHECK(out.find("chmod 600 " + env.bridge->configPath().string()) != std::string::npos);
    CHECK(out.find("as_token_for_tests") == std::string::npos);  // names the keys, never the values
    CHECK(env.bridge->stop() == 0);

    std::filesystem::permissions(env.bridge->configPath(), std::filesystem::perms::owner_read |
                                                               std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
    env.bridge->startRunning();
    CHECK(env.bridge->output().find("holds secrets") == std::string::npos);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test
