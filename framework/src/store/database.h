// Opens the bridge's SQLite file, proves it is ours and runs the schema migrations.
// The file records its owner ("mxbridge"), the bridge type and the schema version, and
// anything else (another bridge's database, a homeserver's own) is refused untouched.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <SQLiteCpp/Database.h>

#include "mxbridge/config.h"

namespace mxbridge::detail {

class DatabaseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Migration {
    int version;
    std::string name;
    std::string sql;
};
// Embedded from framework/src/store/migrations/NNN_name.sql at build time, in order.
const std::vector<Migration>& builtinMigrations();

class Database {
public:
    // Creates the file (and its folder) if absent. Throws DatabaseError with what to do.
    Database(const std::string& path, const std::string& bridgeType, Durability durability);

    // A new connection to the same file with the same pragmas (one per thread that needs it).
    std::unique_ptr<SQLite::Database> connect() const;
    const std::string& path() const { return path_; }
    int schemaVersion() const { return schemaVersion_; }

private:
    void claimOrVerify(SQLite::Database& db, const std::string& bridgeType);
    void migrate(SQLite::Database& db);

    std::string path_;
    Durability durability_;
    int schemaVersion_ = 0;
};

}  // namespace mxbridge::detail
