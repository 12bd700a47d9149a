// One mxbridge-purple-host child: started with one end of a SOCK_SEQPACKET socketpair (the
// only descriptor it inherits besides stdio), its stderr kept as the last lines for when it
// dies, and stopped for sure when this object goes. No libpurple here: the bridge process
// only ever talks to a host over the wire.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mxbridge::purple {

struct HostLaunch {
    std::string program;                  // path of mxbridge-purple-host
    std::string userDir;                  // the host's own libpurple folder
    std::vector<std::string> pluginDirs;  // searched before libpurple's own
    std::size_t logLines = 50;            // stderr lines kept
    // Each stderr line as it comes (on the log reader's thread); may be empty.
    std::function<void(const std::string&)> onLogLine;
};

// How a host ended, in words for the log: "exited with status 1", "killed by signal 11
// (Segmentation fault)".
struct HostExit {
    int status = 0;  // exit status, or 0 when signalled
    int signal = 0;  // the signal that ended it, or 0
    std::string describe() const;
};

class HostProcess {
public:
    // Forks and execs the host. Throws std::system_error when the socketpair, pipe or fork
    // fails; an exec failure shows as the child exiting with status 127 and its reason in
    // lastLogLines().
    explicit HostProcess(HostLaunch launch);
    ~HostProcess();  // SIGKILL if still running, then reaps
    HostProcess(const HostProcess&) = delete;
    HostProcess& operator=(const HostProcess&) = delete;

    pid_t pid() const { return pid_; }
    // The bridge's end of the socketpair; owned by this object.
    int fd() const { return fd_; }

    // Reaps the child if it has ended, waiting up to `timeout`; nullopt while it runs.
    std::optional<HostExit> waitExit(std::chrono::milliseconds timeout);
    void kill(int signal);
    std::vector<std::string> lastLogLines() const;

private:
    void readLog(int fd);

    HostLaunch launch_;
    pid_t pid_ = -1;
    int fd_ = -1;
    std::optional<HostExit> exit_;
    mutable std::mutex mutex_;
    std::deque<std::string> log_;
    std::thread logReader_;
};

}  // namespace mxbridge::purple
