// An SQLite VFS that writes each commit's WAL frames to the file in one system call.
//
// SQLite writes a WAL frame as two pwrite() calls, its 24-byte header and its page, so a
// group commit of a few 20 KB transaction bodies costs some sixty system calls on the
// journal writer, which every acknowledgement waits for: most of its time. This VFS wraps
// the platform's default one and, for WAL files only, gathers consecutive writes in a
// buffer that goes to the file before anything could depend on it:
//   - before the commit is published to other connections: SQLite calls xShmBarrier on the
//     database file just before it writes the new wal-index header, and that flushes;
//   - before any read, sync, truncate, size query or file control on the WAL, and on close;
//   - when a write does not extend the buffer, or the buffer is full.
// So a commit is in the operating system's hands (process-crash durable) before COMMIT
// returns, exactly as without the buffer, and synchronous=FULL still syncs every frame.
// Files other than WALs go straight to the wrapped VFS.
#pragma once

namespace mxbridge::detail {

// Registers the VFS (once, thread-safe) and returns its name for sqlite3_open_v2().
const char* walBatchingVfsName();

}  // namespace mxbridge::detail
