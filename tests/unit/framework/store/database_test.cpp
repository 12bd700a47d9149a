// Database: opening the bridge's SQLite file, proving it is ours, migrating it.
#include <doctest/doctest.h>

#include <filesystem>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/database.h"
#include "temp_dir.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using mxbridge::test::TempDir;

namespace {

std::string meta(const std::string& path, const std::string& key) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT value FROM mxbridge_meta WHERE key = ?");
    q.bind(1, key);
    return q.executeStep() ? q.getColumn(0).getString() : std::string("<absent>");
}

std::string thrownMessage(const std::string& path, const std::string& bridge) {
    try {
        Database db(path, bridge, Durability::ProcessCrash);
    } catch (const DatabaseError& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("a new database file is created with its folder, claimed and migrated") {
    TempDir dir;
    std::string path = (dir / "nested/deeper/bridge.db").string();
    Database db(path, "probe", Durability::ProcessCrash);
    CHECK(std::filesystem::exists(path));
    CHECK(meta(path, "owner") == "mxbridge");
    CHECK(meta(path, "bridge") == "probe");
    REQUIRE_FALSE(builtinMigrations().empty());
    int newest = builtinMigrations().back().version;
    CHECK(db.schemaVersion() == newest);
    CHECK(meta(path, "schema_version") == std::to_string(newest));
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    for (const char* table : {"journal_txn", "journal_cursor", "bridge_kv"}) CHECK(check.tableExists(table));
    CHECK(check.execAndGet("PRAGMA journal_mode").getString() == "wal");
}

TEST_CASE("migrations are numbered in order and are not run again on reopening") {
    const auto& migrations = builtinMigrations();
    for (size_t i = 1; i < migrations.size(); ++i) CHECK(migrations[i].version > migrations[i - 1].version);
    TempDir dir;
    std::string path = (dir / "bridge.db").string();
    { Database first(path, "probe", Durability::PowerLoss); }
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO bridge_kv(key, value) VALUES ('kept', 'yes')");
    }
    Database second(path, "probe", Durability::PowerLoss);
    CHECK(second.schemaVersion() == migrations.back().version);
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    CHECK(check.execAndGet("SELECT value FROM bridge_kv WHERE key = 'kept'").getString() == "yes");
}

TEST_CASE("a database with someone else's tables is refused, naming them, and left untouched") {
    TempDir dir;
    std::string path = (dir / "homeserver.db").string();
    {
        SQLite::Database foreign(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        foreign.exec("CREATE TABLE users (name TEXT)");
        foreign.exec("CREATE TABLE rooms (room_id TEXT)");
    }
    std::string message = thrownMessage(path, "probe");
    CHECK(message.find("users") != std::string::npos);
    CHECK(message.find("rooms") != std::string::npos);
    CHECK(message.find(path) != std::string::npos);
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    CHECK_FALSE(check.tableExists("mxbridge_meta"));
    CHECK_FALSE(check.tableExists("journal_txn"));
}

TEST_CASE("another bridge's database is refused, naming its bridge") {
    TempDir dir;
    std::string path = (dir / "bridge.db").string();
    { Database irc(path, "irc", Durability::ProcessCrash); }
    std::string message = thrownMessage(path, "xmpp");
    CHECK(message.find("'irc'") != std::string::npos);
    CHECK(message.find("'xmpp'") != std::string::npos);
    CHECK(meta(path, "bridge") == "irc");
}

TEST_CASE("a database not owned by mxbridge is refused") {
    TempDir dir;
    std::string path = (dir / "bridge.db").string();
    {
        SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        other.exec("CREATE TABLE mxbridge_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        other.exec("INSERT INTO mxbridge_meta VALUES ('owner', 'impostor'), ('bridge', 'probe')");
    }
    CHECK(thrownMessage(path, "probe").find("not an mxbridge database") != std::string::npos);
}

TEST_CASE("a database with a newer schema version is refused, saying which versions") {
    TempDir dir;
    std::string path = (dir / "bridge.db").string();
    { Database db(path, "probe", Durability::ProcessCrash); }
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.exec("UPDATE mxbridge_meta SET value = '9999' WHERE key = 'schema_version'");
    }
    std::string message = thrownMessage(path, "probe");
    CHECK(message.find("9999") != std::string::npos);
    CHECK(message.find("newer") != std::string::npos);
    CHECK(meta(path, "schema_version") == "9999");
}

TEST_CASE("an unwritable database folder is a DatabaseError saying what to set") {
    std::string message = thrownMessage("/proc/mxbridge-cannot-exist/bridge.db", "probe");
    CHECK(message.find("database.path") != std::string::npos);
}

TEST_CASE("connect() opens further connections to the same file") {
    TempDir dir;
    Database db((dir / "bridge.db").string(), "probe", Durability::ProcessCrash);
    auto a = db.connect();
    auto b = db.connect();
    a->exec("INSERT INTO bridge_kv(key, value) VALUES ('k', 'v')");
    CHECK(b->execAndGet("SELECT value FROM bridge_kv WHERE key = 'k'").getString() == "v");
}
