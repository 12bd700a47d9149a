// The WAL-batching VFS: a commit's frames reach the file in one write, before COMMIT returns,
// so other connections and a process killed right after the commit see exactly what they
// would without it.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <string>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/wal_batching_vfs.h"
#include "temp_dir.h"

using namespace mxbridge::detail;
using mxbridge::test::TempDir;

namespace {

// A raw connection through the VFS, in WAL mode with the journal's pragmas.
struct Connection {
    sqlite3* db = nullptr;
    Connection(const std::string& path, const char* synchronous = "NORMAL") {
        REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                walBatchingVfsName()) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        exec("PRAGMA journal_mode=WAL");
        exec(std::string("PRAGMA synchronous=") + synchronous);
        exec("PRAGMA wal_autocheckpoint=0");
    }
    ~Connection() { sqlite3_close(db); }
    void exec(const std::string& sql) {
        char* error = nullptr;
        int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
        INFO(sql << ": " << (error ? error : ""));
        sqlite3_free(error);
        REQUIRE(rc == SQLITE_OK);
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        std::string out;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            out.assign(reinterpret_cast<const char*>(sqlite3_column_blob(st, 0)),
                       static_cast<size_t>(sqlite3_column_bytes(st, 0)));
        sqlite3_finalize(st);
        return out;
    }
    void insert(int id, const std::string& value) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO t(id, v) VALUES (?, ?)", -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_int(st, 1, id);
        sqlite3_bind_blob(st, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        REQUIRE(rc == SQLITE_DONE);
    }
};

std::string pattern(size_t size, char seed) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i * 31 % 251));
    return s;
}

// write() system calls this process made so far (Linux).
long writeCalls() {
    std::ifstream io("/proc/self/io");
    std::string key;
    long value = -1;
    while (io >> key >> value)
        if (key == "syscw:") return value;
    return -1;
}

}  // namespace

TEST_CASE("each commit is visible to another connection as soon as COMMIT returns") {
    TempDir dir;
    const std::string path = (dir / "v.db").string();
    Connection writer(path);
    writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    Connection reader(path);
    for (int i = 1; i <= 50; ++i) {
        writer.exec("BEGIN IMMEDIATE");
        writer.insert(i, pattern(static_cast<size_t>(i) * 997, 'a'));
        writer.exec("COMMIT");
        CHECK(reader.text("SELECT v FROM t WHERE id = " + std::to_string(i)) ==
              pattern(static_cast<size_t>(i) * 997, 'a'));
    }
}

TEST_CASE("a commit's frames go to the file in one write, not two per page") {
    if (writeCalls() < 0) return;  // no /proc/self/io: nothing to count with
    TempDir dir;
    Connection writer((dir / "v.db").string());
    writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    writer.insert(1, "first");  // the log's header and first frames
    const long before = writeCalls();
    writer.exec("BEGIN IMMEDIATE");
    writer.insert(2, pattern(40000, 'b'));  // ~12 pages: 24 write() calls without batching
    writer.exec("COMMIT");
    CHECK(writeCalls() - before <= 2);
}

TEST_CASE("a commit larger than one write is written whole, and the database checks clean") {
    // The platform VFS cuts any single write to 128 KB; a big commit must go in pieces.
    TempDir dir;
    const std::string path = (dir / "v.db").string();
    Connection writer(path);
    writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    writer.exec("BEGIN IMMEDIATE");
    writer.insert(1, pattern(3 * 1024 * 1024 + 17, 'c'));
    writer.insert(2, pattern(300 * 1024, 'd'));
    writer.exec("COMMIT");
    Connection reader(path);
    CHECK(reader.text("SELECT v FROM t WHERE id = 1") == pattern(3 * 1024 * 1024 + 17, 'c'));
    CHECK(reader.text("SELECT v FROM t WHERE id = 2") == pattern(300 * 1024, 'd'));
    writer.exec("PRAGMA wal_checkpoint(RESTART)");
    writer.exec("BEGIN IMMEDIATE");  // the log starts over at offset 0
    writer.insert(3, pattern(70000, 'e'));
    writer.exec("COMMIT");
    CHECK(reader.text("SELECT v FROM t WHERE id = 3") == pattern(70000, 'e'));
    CHECK(reader.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a commit survives the process being killed right after COMMIT returns") {
    TempDir dir;
    const std::string path = (dir / "v.db").string();
    {
        Connection setup(path);
        setup.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    }
    for (const char* synchronous : {"NORMAL", "FULL"}) {
        CAPTURE(synchronous);
        const int id = synchronous[0] == 'N' ? 1 : 2;
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // No doctest macros here: this is the child.
            sqlite3* db = nullptr;
            if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, walBatchingVfsName()) != SQLITE_OK)
                _exit(3);
            std::string sql = std::string("PRAGMA synchronous=") + synchronous + ";" +
                              "INSERT INTO t(id, v) VALUES (" + std::to_string(id) +
                              ", randomblob(50000));";
            if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(4);
            raise(SIGKILL);  // no close, no checkpoint, no flush at exit
            _exit(5);
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE(WIFSIGNALED(status));
        Connection after(path);
        CHECK(after.text("SELECT CAST(length(v) AS TEXT) FROM t WHERE id = " + std::to_string(id)) == "50000");
        CHECK(after.text("PRAGMA integrity_check") == "ok");
    }
}
