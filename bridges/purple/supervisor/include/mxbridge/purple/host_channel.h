// Requests to a host and what it reports, over the bridge's end of the socketpair: a
// reader thread matches replies to requests by id and hands events on; a request not
// answered in time fails with "timeout" (so a host whose loop hangs is noticed), and all
// requests still open fail with "host_gone" when the socket closes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "mxbridge/purple/frame.h"
#include "mxbridge/purple/messages.h"

namespace mxbridge::purple {

// A reply's body, or why there is none: the host's Error reply (`code`, `text`), or
// code "timeout" / "host_gone" / "encode" from this side.
struct HostReply {
    bool ok = false;
    wire::Record body;
    std::string code;
    std::string text;
};

class HostChannel {
public:
    using EventHandler = std::function<void(const wire::Message&)>;
    using ReplyHandler = std::function<void(HostReply)>;

    // Does not own `fd`. Handlers run on the channel's reader thread (a reply that times
    // out, on the timer thread); they must not call close() or destroy the channel.
    HostChannel(int fd, EventHandler onEvent, std::function<void(std::string why)> onClosed);
    ~HostChannel();  // close()
    HostChannel(const HostChannel&) = delete;
    HostChannel& operator=(const HostChannel&) = delete;

    // Sends a request; `done` runs once with the reply, an error, a timeout or host_gone.
    void request(std::string type, wire::Record body, std::chrono::milliseconds timeout, ReplyHandler done);
    // The same, waiting for the answer (for tests and start-up).
    HostReply call(std::string type, wire::Record body, std::chrono::milliseconds timeout);

    // Stops the threads; open requests fail with host_gone. The fd stays open.
    void close();

private:
    struct Pending {
        ReplyHandler done;
        std::chrono::steady_clock::time_point deadline;
    };
    void readLoop();
    void timerLoop();
    void finish(std::uint32_t id, HostReply reply);
    void failAll(const std::string& code, const std::string& text);

    int fd_;
    int wakeFd_[2] = {-1, -1};  // wakes the reader out of poll() on close()
    EventHandler onEvent_;
    std::function<void(std::string)> onClosed_;
    std::mutex mutex_;
    std::condition_variable timerWake_;
    std::map<std::uint32_t, Pending> pending_;
    std::uint32_t nextId_ = 0;
    bool stopping_ = false;
    std::thread reader_;
    std::thread timer_;
};

}  // namespace mxbridge::purple
