#include "store/database.h"

#include <filesystem>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "store/private_files.h"
#include "store/wal_batching_vfs.h"

namespace mxbridge::detail {

namespace {
constexpr const char* kOwner = "mxbridge";

void applyPragmas(SQLite::Database& db, Durability durability) {
    // First: switching to WAL needs a lock the journal writer may be holding.
    db.setBusyTimeout(10000);
    db.exec("PRAGMA journal_mode=WAL");
    // NORMAL in WAL mode syncs at checkpoints only: a committed transaction survives a process
    // crash (the WAL is in the OS's hands) but not a power loss. FULL syncs the WAL per commit.
    db.exec(durability == Durability::PowerLoss ? "PRAGMA synchronous=FULL"
                                                : "PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA foreign_keys=ON");
}
}  // namespace

Database::Database(const std::string& path, const std::string& bridgeType, Durability durability)
    : path_(path), durability_(durability) {
    namespace fs = std::filesystem;
    try {
        createPrivateFolders(fs::path(path).parent_path());
    } catch (const std::exception& e) {
        throw DatabaseError("cannot create the folder for database " + path + ": " + e.what() +
                            " (set database.path to a writable location)");
    }
    try {
        createPrivateFile(path);  // before SQLite makes it 0644; its -wal and -shm copy the mode
    } catch (const std::exception& e) {
        throw DatabaseError(std::string(e.what()) + " (set database.path to a writable location)");
    }
    try {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 0, walBatchingVfsName());
        claimOrVerify(db, bridgeType);
        applyPragmas(db, durability);
        migrate(db);
    } catch (const SQLite::Exception& e) {
        throw DatabaseError("cannot open database " + path + ": " + e.what());
    }
}

std::unique_ptr<SQLite::Database> Database::connect() const {
    auto db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE, 0, walBatchingVfsName());
    applyPragmas(*db, durability_);
    return db;
}

void Database::claimOrVerify(SQLite::Database& db, const std::string& bridgeType) {
    bool hasMeta = db.tableExists("mxbridge_meta");
    if (!hasMeta) {
        SQLite::Statement tables(db, "SELECT name FROM sqlite_master WHERE type='table' LIMIT 5");
        std::string found;
        while (tables.executeStep()) found += (found.empty() ? "" : ", ") + tables.getColumn(0).getString();
        if (!found.empty()) {
            throw DatabaseError("database " + path_ + " belongs to something else (it has tables " +
                                found + " but no mxbridge_meta); refusing to touch it. Point "
                                "database.path at a new file.");
        }
        SQLite::Transaction txn(db);
        db.exec("CREATE TABLE mxbridge_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        SQLite::Statement insert(db, "INSERT INTO mxbridge_meta(key, value) VALUES (?, ?)");
        for (auto [key, value] : {std::pair<std::string, std::string>{"owner", kOwner},
                                  {"bridge", bridgeType},
                                  {"schema_version", "0"}}) {
            insert.bind(1, key);
            insert.bind(2, value);
            insert.exec();
            insert.reset();
        }
        txn.commit();
        return;
    }
    auto read = [&](const std::string& key) -> std::string {
        SQLite::Statement q(db, "SELECT value FROM mxbridge_meta WHERE key = ?");
        q.bind(1, key);
        return q.executeStep() ? q.getColumn(0).getString() : std::string();
    };
    if (read("owner") != kOwner) {
        throw DatabaseError("database " + path_ + " is not an mxbridge database (owner '" +
                            read("owner") + "'); refusing to touch it");
    }
    std::string owner = read("bridge");
    if (owner != bridgeType) {
        throw DatabaseError("database " + path_ + " belongs to bridge '" + owner +
                            "', not '" + bridgeType + "'; give each bridge its own database.path");
    }
}

void Database::migrate(SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT value FROM mxbridge_meta WHERE key = 'schema_version'");
    int current = q.executeStep() ? std::stoi(q.getColumn(0).getString()) : 0;
    q.reset();
    const auto& migrations = builtinMigrations();
    int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest) {
        throw DatabaseError("database " + path_ + " has schema version " + std::to_string(current) +
                            ", newer than this mxbridge knows (" + std::to_string(newest) +
                            "); run the newer mxbridge or restore a backup");
    }
    for (const auto& m : migrations) {
        if (m.version <= current) continue;
        SQLite::Transaction txn(db);
        try {
            db.exec(m.sql);
        } catch (const SQLite::Exception& e) {
            throw DatabaseError("migration " + std::to_string(m.version) + "_" + m.name +
                                " failed on " + path_ + ": " + e.what());
        }
        SQLite::Statement set(db, "UPDATE mxbridge_meta SET value = ? WHERE key = 'schema_version'");
        set.bind(1, std::to_string(m.version));
        set.exec();
        txn.commit();
        current = m.version;
    }
    schemaVersion_ = current;
}

}  // namespace mxbridge::detail
