#include "mxbridge/purple/host_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "mxbridge/purple/seqpacket.h"

namespace mxbridge::purple {

namespace {

// The fd number the host's end of the socketpair gets in the child.
constexpr int kChildFd = 3;

[[noreturn]] void throwErrno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// `program` itself when it names a path, else the first executable of that name on PATH
// (looked up here: after fork only async-signal-safe calls may run, so no execvp).
std::string resolveProgram(const std::string& program) {
    if (program.find('/') != std::string::npos) return program;
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string candidate = (end > start ? dirs.substr(start, end - start) : ".") + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return program;
}

}  // namespace

std::string HostExit::describe() const {
    if (signal != 0) {
        const char* name = ::strsignal(signal);
        return "killed by signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : "");
    }
    return "exited with status " + std::to_string(status);
}

HostProcess::HostProcess(HostLaunch launch) : launch_(std::move(launch)) {
    launch_.program = resolveProgram(launch_.program);
    auto [bridgeEnd, hostEnd] = wire::makeSocketPair();
    int logPipe[2];
    if (::pipe2(logPipe, O_CLOEXEC) != 0) {
        ::close(bridgeEnd);
        ::close(hostEnd);
        throwErrno("pipe2");
    }
    int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<std::string> args{launch_.program, "--fd", std::to_string(kChildFd), "--user-dir", launch_.userDir,
                                  "--parent", std::to_string(::getpid())};
    for (const auto& dir : launch_.pluginDirs) {
        args.emplace_back("--plugin-dir");
        args.push_back(dir);
    }
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string execFailed = "mxbridge-purple-host: cannot execute " + launch_.program + "\n";

    pid_t pid = ::fork();
    if (pid < 0) {
        int error = errno;
        for (int fd : {bridgeEnd, hostEnd, logPipe[0], logPipe[1], devNull}) ::close(fd);
        throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
        // Its own process group, so stopping it also stops what it started (libpurple's DNS
        // helpers).
        ::setpgid(0, 0);
        if (devNull >= 0) ::dup2(devNull, 0);
        ::dup2(logPipe[1], 1);
        ::dup2(logPipe[1], 2);
        if (hostEnd == kChildFd)
            ::fcntl(kChildFd, F_SETFD, 0);
        else
            ::dup2(hostEnd, kChildFd);  // dup2 clears close-on-exec on the copy
        // Nothing else of the bridge's reaches the host (sockets, files, the database).
        ::close_range(kChildFd + 1, ~0U, 0);
        ::execv(argv[0], argv.data());
        ssize_t ignored = ::write(2, execFailed.data(), execFailed.size());
        (void)ignored;
        ::_exit(127);
    }
    pid_ = pid;
    fd_ = bridgeEnd;
    ::close(hostEnd);
    ::close(logPipe[1]);
    if (devNull >= 0) ::close(devNull);
    logReader_ = std::thread([this, fd = logPipe[0]] { readLog(fd); });
}

HostProcess::~HostProcess() {
    if (!exit_) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        int status;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (logReader_.joinable()) logReader_.join();
    if (fd_ >= 0) ::close(fd_);
}

void HostProcess::readLog(int fd) {
    std::string partial;
    char buffer[4096];
    for (;;) {
        // Bounded waits: the pipe may stay open in a helper the host left behind, so the
        // reader also stops once the host itself is reaped.
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        int ready = ::poll(&p, 1, 100);
        if (ready == 0) {
            std::lock_guard lock(mutex_);
            if (exit_) break;
            continue;
        }
        if (ready < 0 && errno == EINTR) continue;
        ssize_t n = ready < 0 ? -1 : ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        partial.append(buffer, static_cast<std::size_t>(n));
        std::size_t newline;
        while ((newline = partial.find('\n')) != std::string::npos) {
            std::string line = partial.substr(0, newline);
            partial.erase(0, newline + 1);
            if (launch_.onLogLine) launch_.onLogLine(line);
            std::lock_guard lock(mutex_);
            log_.push_back(std::move(line));
            while (log_.size() > launch_.logLines) log_.pop_front();
        }
    }
    if (!partial.empty()) {
        std::lock_guard lock(mutex_);
        log_.push_back(std::move(partial));
        while (log_.size() > launch_.logLines) log_.pop_front();
    }
    ::close(fd);
}

std::optional<HostExit> HostProcess::waitExit(std::chrono::milliseconds timeout) {
    {
        std::lock_guard lock(mutex_);
        if (exit_) return exit_;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            HostExit exit;
            if (WIFSIGNALED(status))
                exit.signal = WTERMSIG(status);
            else
                exit.status = WEXITSTATUS(status);
            // What the host started goes with it.
            ::kill(-pid_, SIGKILL);
            std::lock_guard lock(mutex_);
            exit_ = exit;
            return exit_;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void HostProcess::kill(int signal) {
    std::lock_guard lock(mutex_);
    if (!exit_) ::kill(pid_, signal);
}

std::vector<std::string> HostProcess::lastLogLines() const {
    std::lock_guard lock(mutex_);
    return {log_.begin(), log_.end()};
}

}  // namespace mxbridge::purple
