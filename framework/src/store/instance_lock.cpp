#include "store/instance_lock.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/database.h"
#include "store/private_files.h"

namespace mxbridge::detail {

namespace {

pid_t pidIn(int fd) {
    char text[32] = {};
    ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0) return 0;
    return static_cast<pid_t>(std::strtol(text, nullptr, 10));
}

}  // namespace

InstanceLock::InstanceLock(const std::string& databasePath) : path_(databasePath + ".lock") {
    try {
        createPrivateFolders(std::filesystem::path(databasePath).parent_path());
    } catch (const std::exception& e) {
        throw DatabaseError("cannot create the folder for database " + databasePath + ": " + e.what() +
                            " (set database.path to a writable location)");
    }
    // A file of our own, not SQLite's locking_mode=EXCLUSIVE, which would lock out readers
    // (backups, the operator's sqlite3 shell) too; and not the database itself: on NFS flock
    // is emulated with the POSIX locks SQLite takes on that file.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throw DatabaseError("cannot create the lock file " + path_ + ": " + std::strerror(errno) +
                            " (set database.path to a writable location)");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        pid_t holder = err == EWOULDBLOCK ? pidIn(fd_) : 0;
        ::close(fd_);
        fd_ = -1;
        if (err != EWOULDBLOCK)
            throw DatabaseError("cannot lock " + path_ + ": " + std::strerror(err));
        throw AlreadyRunningError(
            "another mxbridge" + (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string()) +
                " is running on database " + databasePath + " (it holds " + path_ +
                "); stop it first, or give this instance its own database.path",
            holder);
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        // The lock holds without the pid; a second instance is then refused without naming it.
    }
}

InstanceLock::~InstanceLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays for the next start
}

}  // namespace mxbridge::detail
