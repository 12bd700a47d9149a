#include "store/wal_batching_vfs.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <sqlite3.h>

namespace mxbridge::detail {

namespace {

// Enough for a group commit of a dozen 20 KB bodies; a larger commit flushes as it fills.
constexpr int kBufferBytes = 512 * 1024;
// A WAL frame starts with a 24-byte header whose bytes 4..7 are non-zero only in the frame
// that commits a transaction (the database size after it, in pages).
constexpr int kFrameHeaderBytes = 24;
// The unix VFS masks a write's length to 17 bits (SQLite itself never writes more than a
// 64 KB page at once), so a larger write must go in pieces.
constexpr int kMaxWriteBytes = 0x1ffff & ~4095;

struct BatchingFile {
    sqlite3_file base;  // first: SQLite sees this
    sqlite3_file* real;
    bool isWal;
    BatchingFile* wal;    // on a database file: the WAL its pager opened, while open
    BatchingFile* owner;  // on a WAL: that database file
    bool commitFrameNext; // the last write was a commit frame's header: flush after its page
    char* buffer;
    sqlite3_int64 bufferStart;
    int bufferLength;
};

sqlite3_vfs* wrapped = nullptr;
sqlite3_vfs vfs;
sqlite3_io_methods methods;

BatchingFile* asBatching(sqlite3_file* file) { return reinterpret_cast<BatchingFile*>(file); }
const sqlite3_io_methods* realMethods(BatchingFile* f) { return f->real->pMethods; }

int flush(BatchingFile* f) {
    int length = f->bufferLength;
    f->bufferLength = 0;
    for (int done = 0; done < length;) {
        int chunk = std::min(length - done, kMaxWriteBytes);
        int rc = realMethods(f)->xWrite(f->real, f->buffer + done, chunk, f->bufferStart + done);
        if (rc != SQLITE_OK) return rc;
        done += chunk;
    }
    return SQLITE_OK;
}

int xClose(sqlite3_file* file) {
    BatchingFile* f = asBatching(file);
    int flushed = flush(f);
    if (f->owner && f->owner->wal == f) f->owner->wal = nullptr;
    if (f->wal && f->wal->owner == f) f->wal->owner = nullptr;
    sqlite3_free(f->buffer);
    f->buffer = nullptr;
    int rc = realMethods(f)->xClose(f->real);
    return flushed != SQLITE_OK ? flushed : rc;
}

int xRead(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
    BatchingFile* f = asBatching(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return realMethods(f)->xRead(f->real, data, amount, offset);
}

int xWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    BatchingFile* f = asBatching(file);
    if (!f->isWal) return realMethods(f)->xWrite(f->real, data, amount, offset);

    const sqlite3_int64 end = f->bufferStart + f->bufferLength;
    if (f->bufferLength > 0 && offset >= f->bufferStart && offset + amount <= end) {
        // A frame of this commit written again (SQLite rewrites a page's frame in place).
        std::memcpy(f->buffer + (offset - f->bufferStart), data, static_cast<size_t>(amount));
    } else if (f->bufferLength > 0 && offset == end && f->bufferLength + amount <= kBufferBytes) {
        std::memcpy(f->buffer + f->bufferLength, data, static_cast<size_t>(amount));
        f->bufferLength += amount;
    } else {
        if (int rc = flush(f); rc != SQLITE_OK) return rc;
        if (!f->buffer) f->buffer = static_cast<char*>(sqlite3_malloc(kBufferBytes));
        if (amount > kBufferBytes || !f->buffer) {
            f->commitFrameNext = false;
            return realMethods(f)->xWrite(f->real, data, amount, offset);
        }
        std::memcpy(f->buffer, data, static_cast<size_t>(amount));
        f->bufferStart = offset;
        f->bufferLength = amount;
    }

    const bool completesCommit = f->commitFrameNext;
    const auto* bytes = static_cast<const unsigned char*>(data);
    f->commitFrameNext = amount == kFrameHeaderBytes &&
                         (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
    // The commit frame is the last of a commit (synchronous=FULL then syncs, which flushes
    // too): write it all now, so a failure is reported by this call, to the commit.
    return completesCommit ? flush(f) : SQLITE_OK;
}

int xTruncate(sqlite3_file* file, sqlite3_int64 size) {
    BatchingFile* f = asBatching(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return realMethods(f)->xTruncate(f->real, size);
}

int xSync(sqlite3_file* file, int flags) {
    BatchingFile* f = asBatching(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return realMethods(f)->xSync(f->real, flags);
}

int xFileSize(sqlite3_file* file, sqlite3_int64* size) {
    BatchingFile* f = asBatching(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return realMethods(f)->xFileSize(f->real, size);
}

int xLock(sqlite3_file* file, int level) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xLock(f->real, level);
}

int xUnlock(sqlite3_file* file, int level) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xUnlock(f->real, level);
}

int xCheckReservedLock(sqlite3_file* file, int* out) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xCheckReservedLock(f->real, out);
}

int xFileControl(sqlite3_file* file, int op, void* arg) {
    BatchingFile* f = asBatching(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    if (op == SQLITE_FCNTL_VFSNAME) {
        int rc = realMethods(f)->xFileControl(f->real, op, arg);
        if (rc == SQLITE_OK) {
            char** name = static_cast<char**>(arg);
            char* combined = sqlite3_mprintf("%s/%z", vfs.zName, *name);
            if (combined) *name = combined;
        }
        return rc;
    }
    return realMethods(f)->xFileControl(f->real, op, arg);
}

int xSectorSize(sqlite3_file* file) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xSectorSize(f->real);
}

int xDeviceCharacteristics(sqlite3_file* file) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xDeviceCharacteristics(f->real);
}

int xShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xShmMap(f->real, region, size, extend, out);
}

int xShmLock(sqlite3_file* file, int offset, int n, int flags) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xShmLock(f->real, offset, n, flags);
}

void xShmBarrier(sqlite3_file* file) {
    BatchingFile* f = asBatching(file);
    // SQLite's last call before it publishes a commit to other connections. The commit
    // frame's write has flushed already; this only backs that up (it cannot report errors).
    if (f->wal) flush(f->wal);
    realMethods(f)->xShmBarrier(f->real);
}

int xShmUnmap(sqlite3_file* file, int deleteFlag) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xShmUnmap(f->real, deleteFlag);
}

int xFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
    BatchingFile* f = asBatching(file);
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return realMethods(f)->xFetch(f->real, offset, amount, out);
}

int xUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
    BatchingFile* f = asBatching(file);
    return realMethods(f)->xUnfetch(f->real, offset, page);
}

int xOpen(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* outFlags) {
    BatchingFile* f = asBatching(file);
    std::memset(f, 0, sizeof(BatchingFile));
    f->real = reinterpret_cast<sqlite3_file*>(f + 1);
    int rc = wrapped->xOpen(wrapped, name, f->real, flags, outFlags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        f->base.pMethods = nullptr;  // SQLite then does not call xClose
        return rc;
    }
    if (f->real->pMethods->iVersion < 3) {
        // Shared memory and mmap methods are needed for WAL mode; the platform VFS has them.
        f->real->pMethods->xClose(f->real);
        f->base.pMethods = nullptr;
        return SQLITE_CANTOPEN;
    }
    f->isWal = (flags & SQLITE_OPEN_WAL) != 0;
    if (f->isWal && name) {
        sqlite3_file* database = sqlite3_database_file_object(name);
        if (database && database->pMethods == &methods) {
            f->owner = asBatching(database);
            f->owner->wal = f;
        }
    }
    f->base.pMethods = &methods;
    return SQLITE_OK;
}

// The rest of the VFS is the wrapped one's, called with the wrapped VFS as its context.
int xDelete(sqlite3_vfs*, const char* name, int syncDir) { return wrapped->xDelete(wrapped, name, syncDir); }
int xAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
    return wrapped->xAccess(wrapped, name, flags, out);
}
int xFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
    return wrapped->xFullPathname(wrapped, name, n, out);
}
void* xDlOpen(sqlite3_vfs*, const char* name) { return wrapped->xDlOpen(wrapped, name); }
void xDlError(sqlite3_vfs*, int n, char* out) { wrapped->xDlError(wrapped, n, out); }
void (*xDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
    return wrapped->xDlSym(wrapped, handle, symbol);
}
void xDlClose(sqlite3_vfs*, void* handle) { wrapped->xDlClose(wrapped, handle); }
int xRandomness(sqlite3_vfs*, int n, char* out) { return wrapped->xRandomness(wrapped, n, out); }
int xSleep(sqlite3_vfs*, int micros) { return wrapped->xSleep(wrapped, micros); }
int xCurrentTime(sqlite3_vfs*, double* out) { return wrapped->xCurrentTime(wrapped, out); }
int xGetLastError(sqlite3_vfs*, int n, char* out) { return wrapped->xGetLastError(wrapped, n, out); }
int xCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
    return wrapped->xCurrentTimeInt64(wrapped, out);
}

void registerVfs() {
    wrapped = sqlite3_vfs_find(nullptr);
    if (!wrapped || wrapped->iVersion < 2)
        throw std::runtime_error("SQLite has no usable default VFS to wrap");

    methods = sqlite3_io_methods{};
    methods.iVersion = 3;
    methods.xClose = xClose;
    methods.xRead = xRead;
    methods.xWrite = xWrite;
    methods.xTruncate = xTruncate;
    methods.xSync = xSync;
    methods.xFileSize = xFileSize;
    methods.xLock = xLock;
    methods.xUnlock = xUnlock;
    methods.xCheckReservedLock = xCheckReservedLock;
    methods.xFileControl = xFileControl;
    methods.xSectorSize = xSectorSize;
    methods.xDeviceCharacteristics = xDeviceCharacteristics;
    methods.xShmMap = xShmMap;
    methods.xShmLock = xShmLock;
    methods.xShmBarrier = xShmBarrier;
    methods.xShmUnmap = xShmUnmap;
    methods.xFetch = xFetch;
    methods.xUnfetch = xUnfetch;

    vfs = sqlite3_vfs{};
    vfs.iVersion = 2;
    // Room for our state, then the wrapped VFS's file object, 8-byte aligned.
    vfs.szOsFile = static_cast<int>((sizeof(BatchingFile) + 7) / 8 * 8) + wrapped->szOsFile;
    vfs.mxPathname = wrapped->mxPathname;
    vfs.zName = "mxbridge-wal-batching";
    vfs.xOpen = xOpen;
    vfs.xDelete = xDelete;
    vfs.xAccess = xAccess;
    vfs.xFullPathname = xFullPathname;
    vfs.xDlOpen = xDlOpen;
    vfs.xDlError = xDlError;
    vfs.xDlSym = xDlSym;
    vfs.xDlClose = xDlClose;
    vfs.xRandomness = xRandomness;
    vfs.xSleep = xSleep;
    vfs.xCurrentTime = xCurrentTime;
    vfs.xGetLastError = xGetLastError;
    vfs.xCurrentTimeInt64 = xCurrentTimeInt64;
    if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK)
        throw std::runtime_error("cannot register SQLite VFS " + std::string(vfs.zName));
}

}  // namespace

const char* walBatchingVfsName() {
    static std::once_flag once;
    std::call_once(once, registerVfs);
    return vfs.zName;
}

}  // namespace mxbridge::detail
