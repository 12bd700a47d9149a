#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>

#include "harness_error.h"
#include "ports.h"

extern char** environ;

namespace mxbridge::test {

namespace {

// Process groups still alive, for the exit and fatal-signal paths where no destructor runs.
// Lock-free slots because the signal handler may read them at any moment.
constexpr std::size_t kMaxGroups = 256;
std::array<std::atomic<pid_t>, kMaxGroups> liveGroups{};
std::once_flag cleanupInstalled;
constexpr std::array kFatalSignals = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT, SIGABRT,
                                      SIGSEGV, SIGBUS,  SIGFPE, SIGILL};
std::array<struct sigaction, kFatalSignals.size()> previousActions{};

void killAllGroups() noexcept {
    for (auto& slot : liveGroups) {
        pid_t group = slot.exchange(0);
        if (group > 0) {
            ::kill(-group, SIGKILL);
        }
    }
}

void onFatalSignal(int signo) {
    killAllGroups();
    // Hand the signal on to whoever had it before (doctest reports the crash), then re-raise.
    for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
        if (kFatalSignals[i] == signo) {
            ::sigaction(signo, &previousActions[i], nullptr);
        }
    }
    ::raise(signo);
}

void installCleanup() {
    std::call_once(cleanupInstalled, [] {
        std::atexit(killAllGroups);
        for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
            struct sigaction action {};
            action.sa_handler = onFatalSignal;
            sigemptyset(&action.sa_mask);
            ::sigaction(kFatalSignals[i], &action, &previousActions[i]);
        }
    });
}

void registerGroup(pid_t group) {
    for (auto& slot : liveGroups) {
        pid_t expected = 0;
        if (slot.compare_exchange_strong(expected, group)) {
            return;
        }
    }
}

void unregisterGroup(pid_t group) {
    for (auto& slot : liveGroups) {
        pid_t expected = group;
        if (slot.compare_exchange_strong(expected, 0)) {
            return;
        }
    }
}

// Resolved before fork: between fork and exec only async-signal-safe calls are allowed.
std::string resolveProgram(const std::string& program) {
    if (program.find('/') != std::string::npos) {
        return program;
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    throw HarnessError("cannot start " + program + ": not found in PATH");
}

std::vector<std::string> mergedEnvironment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string_view item(*entry);
        bool overridden = std::any_of(additions.begin(), additions.end(), [&](const auto& add) {
            return item.size() > add.first.size() && item.starts_with(add.first) &&
                   item[add.first.size()] == '=';
        });
        if (!overridden) {
            env.emplace_back(item);
        }
    }
    for (const auto& [key, value] : additions) {
        env.push_back(key + "=" + value);
    }
    return env;
}

std::vector<char*> cStrings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

int decodeStatus(int status) {
    if (WIFSIGNALED(status)) {
        return -WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

}  // namespace

Process::Process(ProcessOptions options) : ringLines_(std::max<std::size_t>(options.ringLines, 1)) {
    if (options.argv.empty()) {
        throw HarnessError("Process: empty argv");
    }
    installCleanup();
    name_ = options.name.empty() ? std::filesystem::path(options.argv[0]).filename().string()
                                 : options.name;
    logFile_ = options.logFile;
    if (logFile_.empty()) {
        ownDir_.emplace("mxbridge-proc-" + name_);
        logFile_ = *ownDir_ / (name_ + ".log");
    }
    logFd_ = ::open(logFile_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logFd_ < 0) {
        throw HarnessError("cannot open log " + logFile_.string() + ": " + std::strerror(errno));
    }

    std::string program = resolveProgram(options.argv[0]);
    std::vector<std::string> argvStrings = options.argv;
    std::vector<std::string> envStrings = mergedEnvironment(options.env);
    std::vector<char*> argv = cStrings(argvStrings);
    std::vector<char*> envp = cStrings(envStrings);
    std::string workDir = options.workDir.string();

    int outPipe[2];
    int execErrPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(execErrPipe, O_CLOEXEC) != 0 ||
        ::pipe2(stopPipe_, O_CLOEXEC) != 0) {
        throw HarnessError(std::string("pipe: ") + std::strerror(errno));
    }
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        throw HarnessError(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        // Child: async-signal-safe calls only.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        // Undo the test's signal handlers and mask so the daemon sees SIGTERM as usual.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int signo : kFatalSignals) {
            ::signal(signo, SIG_DFL);
        }
        ::signal(SIGPIPE, SIG_DFL);
        int devNull = ::open("/dev/null", O_RDONLY);
        ::dup2(devNull, 0);
        ::dup2(outPipe[1], 1);
        ::dup2(outPipe[1], 2);
        // Nothing else of the test's may reach the daemon: an inherited listening socket (the
        // homeserver double's, opened by asio without CLOEXEC) kept its port taken after
        // goDown(), so comeBack() could not listen again. CLOEXEC, not close: execErrPipe
        // must stay open until exec.
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        int err = 0;
        if (!workDir.empty() && ::chdir(workDir.c_str()) != 0) {
            err = errno;
        } else {
            ::execve(program.c_str(), argv.data(), envp.data());
            err = errno;
        }
        [[maybe_unused]] auto written = ::write(execErrPipe[1], &err, sizeof(err));
        ::_exit(127);
    }
    // Also from the parent, so a kill right after the constructor finds the group.
    ::setpgid(pid_, pid_);
    registerGroup(pid_);
    ::close(outPipe[1]);
    ::close(execErrPipe[1]);
    int childErr = 0;
    ssize_t got;
    do {
        got = ::read(execErrPipe[0], &childErr, sizeof(childErr));
    } while (got < 0 && errno == EINTR);
    ::close(execErrPipe[0]);
    if (got == sizeof(childErr)) {
        ::close(outPipe[0]);
        ::close(logFd_);
        ::waitpid(pid_, nullptr, 0);
        unregisterGroup(pid_);
        throw HarnessError("cannot start " + program + ": " + std::strerror(childErr));
    }
    outputFd_ = outPipe[0];
    reader_ = std::thread([this] { readerLoop(outputFd_); });
}

Process::~Process() {
    if (!exitStatus_) {
        ::kill(-pid_, SIGKILL);
        waitExit(5s);
    } else {
        // The leader is gone; strays it left in its group must not outlive the test either.
        ::kill(-pid_, SIGKILL);
    }
    unregisterGroup(pid_);
    if (reader_.joinable()) {
        char stop = 1;
        [[maybe_unused]] auto written = ::write(stopPipe_[1], &stop, 1);
        reader_.join();
    }
    for (int fd : {outputFd_, logFd_, stopPipe_[0], stopPipe_[1]}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

void Process::readerLoop(int fd) {
    std::array<char, 16384> buffer;
    for (;;) {
        std::array<pollfd, 2> fds{pollfd{fd, POLLIN, 0}, pollfd{stopPipe_[0], POLLIN, 0}};
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[0].revents != 0) {
            ssize_t got = ::read(fd, buffer.data(), buffer.size());
            if (got > 0) {
                appendOutput(buffer.data(), static_cast<std::size_t>(got));
                continue;
            }
            if (got < 0 && errno == EINTR) {
                continue;
            }
            break;  // EOF: every writer (child and its children) closed the pipe
        }
        if (fds[1].revents != 0) {
            // Stop requested: drain what is already there, without blocking.
            ::fcntl(fd, F_SETFL, O_NONBLOCK);
            ssize_t got;
            while ((got = ::read(fd, buffer.data(), buffer.size())) > 0) {
                appendOutput(buffer.data(), static_cast<std::size_t>(got));
            }
            break;
        }
    }
    std::lock_guard lock(mutex_);
    if (!partial_.empty()) {
        ring_.push_back(std::move(partial_));
        partial_.clear();
        ++linesSeen_;
        if (ring_.size() > ringLines_) {
            ring_.pop_front();
        }
    }
    outputClosed_ = true;
    changed_.notify_all();
}

void Process::appendOutput(const char* data, std::size_t size) {
    [[maybe_unused]] auto written = ::write(logFd_, data, size);
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == '\n') {
            if (!partial_.empty() && partial_.back() == '\r') {
                partial_.pop_back();
            }
            ring_.push_back(std::move(partial_));
            partial_.clear();
            ++linesSeen_;
            if (ring_.size() > ringLines_) {
                ring_.pop_front();
            }
        } else {
            partial_ += data[i];
        }
    }
    changed_.notify_all();
}

std::string Process::waitForLine(const std::string& pattern, std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    for (;;) {
        const std::uint64_t first = linesSeen_ - ring_.size();
        for (std::uint64_t n = std::max(first, searchFrom_); n < linesSeen_; ++n) {
            const std::string& line = ring_[static_cast<std::size_t>(n - first)];
            if (std::regex_search(line, re)) {
                searchFrom_ = n + 1;
                return line;
            }
        }
        searchFrom_ = linesSeen_;
        if (outputClosed_) {
            lock.unlock();
            fail(pattern, "output closed (process exited?)");
        }
        if (changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= deadline) {
            lock.unlock();
            fail(pattern, "timed out after " + std::to_string(timeout.count()) + " ms");
        }
    }
}

void Process::waitForPort(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (canConnect(port, 200ms)) {
            return;
        }
        if (pollExit()) {
            fail("port " + std::to_string(port) + " accepting",
                 "process exited with " + std::to_string(*exitStatus_));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            fail("port " + std::to_string(port) + " accepting",
                 "timed out after " + std::to_string(timeout.count()) + " ms");
        }
        std::this_thread::sleep_for(50ms);
    }
}

void Process::signal(int signo) {
    if (!exitStatus_) {
        ::kill(-pid_, signo);
    }
}

std::optional<int> Process::terminate(std::chrono::milliseconds timeout) {
    signal(SIGTERM);
    if (auto status = waitExit(timeout)) {
        return status;
    }
    return kill9();
}

std::optional<int> Process::kill9() {
    signal(SIGKILL);
    return waitExit(5s);
}

bool Process::pollExit() {
    if (exitStatus_) {
        return true;
    }
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) {
        exitStatus_ = decodeStatus(status);
        return true;
    }
    return false;
}

std::optional<int> Process::waitExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pollExit()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(5ms);
    }
    return exitStatus_;
}

bool Process::running() { return !pollExit(); }

std::vector<std::string> Process::lines() const {
    std::lock_guard lock(mutex_);
    return {ring_.begin(), ring_.end()};
}

std::string Process::lastLines(std::size_t n) const {
    std::lock_guard lock(mutex_);
    std::string out;
    std::size_t start = ring_.size() > n ? ring_.size() - n : 0;
    for (std::size_t i = start; i < ring_.size(); ++i) {
        out += "[" + name_ + "] " + ring_[i] + "\n";
    }
    if (!partial_.empty()) {
        out += "[" + name_ + "] " + partial_ + "\n";
    }
    return out;
}

void Process::fail(const std::string& wanted, const std::string& why) const {
    throw HarnessError(name_ + " (pid " + std::to_string(pid_) + "): wanted: " + wanted + "; " +
                       why + "; log " + logFile_.string() + "; last lines:\n" + lastLines(50));
}

}  // namespace mxbridge::test
