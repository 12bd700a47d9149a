// A daemon under test (mxbridge, InspIRCd, Prosody…) run as a child process: output captured,
// readiness awaited with deadlines, and always stopped, even when the test fails or crashes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "temp_dir.h"

namespace mxbridge::test {

using namespace std::chrono_literals;

struct ProcessOptions {
    // argv[0] is looked up in PATH unless it contains a '/'.
    std::vector<std::string> argv = {};
    // Added to (or replacing entries of) the test's own environment.
    std::vector<std::pair<std::string, std::string>> env = {};
    // Empty: the test's working directory.
    std::filesystem::path workDir = {};
    // Where stdout and stderr go, interleaved. Empty: a file in a TempDir owned by the Process.
    std::filesystem::path logFile = {};
    // Shown in failure messages; defaults to the program's file name.
    std::string name = {};
    // Lines kept in memory for waitForLine() and lastLines().
    std::size_t ringLines = 2000;
};

// Starts in the constructor (throws HarnessError if the program cannot be executed). The child
// gets its own process group, which the destructor SIGKILLs; a registry does the same at exit
// and on fatal signals, and PR_SET_PDEATHSIG covers the test being SIGKILLed (by a CTest
// timeout). Create a Process on the thread that will outlive it: PDEATHSIG follows the thread.
class Process {
public:
    explicit Process(ProcessOptions options);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& name() const { return name_; }
    const std::filesystem::path& logFile() const { return logFile_; }

    // Waits for an output line matching the ECMAScript regex `pattern` (std::regex_search),
    // starting after the line the previous waitForLine() matched. Returns the line. Throws
    // HarnessError ("wanted: …; last lines: …") at the deadline or when the process exits.
    std::string waitForLine(const std::string& pattern, std::chrono::milliseconds timeout = 10s);

    // Connects to 127.0.0.1:port until it accepts; throws like waitForLine on timeout or exit.
    void waitForPort(std::uint16_t port, std::chrono::milliseconds timeout = 10s);

    // SIGTERM to the group, SIGKILL if still running after `timeout`. Returns waitExit()'s value.
    std::optional<int> terminate(std::chrono::milliseconds timeout = 5s);
    // SIGKILL to the group, then reaps it.
    std::optional<int> kill9();
    void signal(int signo);

    // The exit code, or minus the signal number if it was killed (-9 after kill9()), as
    // Python's returncode; nullopt if still running at the deadline.
    std::optional<int> waitExit(std::chrono::milliseconds timeout);
    bool running();

    // The last `n` output lines, each prefixed "[name] ", for failure messages.
    std::string lastLines(std::size_t n = 50) const;
    // All lines still in the ring, unprefixed.
    std::vector<std::string> lines() const;

private:
    void readerLoop(int fd);
    void appendOutput(const char* data, std::size_t size);
    bool pollExit();
    [[noreturn]] void fail(const std::string& wanted, const std::string& why) const;

    std::string name_;
    std::optional<TempDir> ownDir_;
    std::filesystem::path logFile_;
    std::size_t ringLines_;
    pid_t pid_ = -1;
    std::optional<int> exitStatus_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> ring_;
    std::uint64_t linesSeen_ = 0;   // total lines ever appended; ring_ holds the last ones
    std::uint64_t searchFrom_ = 0;  // waitForLine looks at lines numbered >= this
    std::string partial_;
    bool outputClosed_ = false;

    int outputFd_ = -1;
    int logFd_ = -1;
    int stopPipe_[2] = {-1, -1};
    std::thread reader_;
};

}  // namespace mxbridge::test
