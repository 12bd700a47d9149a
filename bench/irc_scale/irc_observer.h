// The benchmark's eyes on IRC: one registered client (a harness LineSocket) whose lines are
// read and timestamped on a thread of their own, so nothing it receives waits for the driver.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "line_socket.h"

namespace mxbridge::bench {

using Clock = std::chrono::steady_clock;

class IrcObserver {
public:
    // Called on the reader thread for every line, with the time it was read.
    using LineHandler = std::function<void(std::string_view line, Clock::time_point at)>;

    // Takes a connected, registered socket (auto-PONG on) and starts reading it.
    IrcObserver(test::LineSocket socket, LineHandler handler);
    ~IrcObserver();
    IrcObserver(const IrcObserver&) = delete;
    IrcObserver& operator=(const IrcObserver&) = delete;

    // Safe beside the reader (LineSocket writes and reads share only the descriptor) and from
    // several threads: a long write (1,000 KILLs) is never interleaved with another line.
    void write(std::string_view line) {
        std::lock_guard lock(writeMutex_);
        socket_.writeLine(line);
    }
    // Why reading stopped early (the server closed on us), or empty.
    std::string failure() const;

private:
    void readLoop();

    test::LineSocket socket_;
    std::mutex writeMutex_;
    LineHandler handler_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> failed_{false};
    std::string failure_;
    std::thread reader_;
};

}  // namespace mxbridge::bench
