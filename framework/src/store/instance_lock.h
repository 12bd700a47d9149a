// One bridge process per database. Two on one file both replay the journal and send the
// outbox, and whichever commits second fails every commit ("UNIQUE constraint failed:
// journal_txn.seq", issue 9 item 17). The lock is an flock(2) on `<database>.lock`, held for
// the life of the process: the kernel releases it when the process ends, also on kill -9,
// so a stale file never blocks a start. The file holds the holder's pid, for the refusal.
#pragma once

#include <stdexcept>
#include <string>

#include <sys/types.h>

namespace mxbridge::detail {

// Another live process holds the lock.
class AlreadyRunningError : public std::runtime_error {
public:
    AlreadyRunningError(const std::string& message, pid_t holder)
        : std::runtime_error(message), holder_(holder) {}
    pid_t holder() const { return holder_; }  // 0 when the file named none

private:
    pid_t holder_;
};

class InstanceLock {
public:
    // Creates the database's folder (private) and the lock file if needed and takes the
    // lock. Throws AlreadyRunningError, or DatabaseError when the file cannot be made.
    explicit InstanceLock(const std::string& databasePath);
    ~InstanceLock();
    InstanceLock(const InstanceLock&) = delete;
    InstanceLock& operator=(const InstanceLock&) = delete;

    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace mxbridge::detail
