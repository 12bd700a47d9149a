// Keeps one mxbridge-purple-host running (HostPool has one per slot): starts it, says hello, pings it,
// and when it exits or stops answering, logs how it ended with its last lines and starts a
// new one after the framework's back-off. Requests go to whichever host is up; with none up
// they fail at once with "host_gone", so callers treat a host's death like a dropped
// connection.
//
// All starting and stopping happens on the supervisor's own thread, which lives as long as
// the supervisor: PR_SET_PDEATHSIG follows the thread that forked, so a host must never be
// forked from a thread that may end before the bridge.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "mxbridge/backoff.h"
#include "mxbridge/log.h"
#include "mxbridge/purple/host_channel.h"
#include "mxbridge/purple/host_process.h"
#include "purple_config.h"

namespace mxbridge::purple {

class HostSupervisor {
public:
    struct Callbacks {
        // An event of the current host (on its reader thread). Must not block.
        std::function<void(const wire::Message&)> onEvent;
        // A host said hello (the first or a replacement): its accounts must be logged in
        // again. On the supervisor thread.
        std::function<void()> onHostUp;
        // The host is gone; a replacement is on its way. On the supervisor thread.
        std::function<void(const std::string& why)> onHostDown;
    };

    // `index` names the host in logs and its folder (<data_dir>/host-<index>).
    HostSupervisor(std::size_t index, PurpleBridgeConfig config, Logger log, Callbacks callbacks,
                   BackoffOptions backoff = BackoffOptions{});
    ~HostSupervisor();  // stop()
    HostSupervisor(const HostSupervisor&) = delete;
    HostSupervisor& operator=(const HostSupervisor&) = delete;

    // Starts the first host; waits up to `timeout` for its hello and protocol list. False
    // when none came (the supervisor keeps trying in the background).
    bool start(std::chrono::milliseconds timeout);
    void stop();

    void request(std::string type, wire::Record body, std::chrono::milliseconds timeout,
                 HostChannel::ReplyHandler done);
    // Runs `task` on the supervisor thread after `delay` (an account's own retry).
    void after(std::chrono::milliseconds delay, std::function<void()> task);

    // The protocols the first host listed; nullopt until one did.
    std::optional<wire::ProtocolList> protocols() const;
    bool hostUp() const;
    // The running host's pid (0 when none) and how many hosts have been started.
    std::int64_t hostPid() const;
    std::uint64_t starts() const;

private:
    void run();
    void post(std::function<void()> task, std::chrono::steady_clock::time_point when);
    void launch();
    void lose(std::uint64_t generation, const std::string& why);
    void ping(std::uint64_t generation);

    std::size_t index_;
    PurpleBridgeConfig config_;
    Logger log_;
    Callbacks callbacks_;
    Backoff backoff_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> tasks_;
    bool stopping_ = false;
    std::condition_variable ready_;  // a hello with protocols arrived
    std::shared_ptr<HostChannel> channel_;
    std::optional<wire::ProtocolList> protocols_;
    std::int64_t pid_ = 0;
    std::uint64_t generation_ = 0;  // of the current host; a lost host's late news is ignored
    std::uint64_t starts_ = 0;

    // Only the supervisor thread touches these.
    std::unique_ptr<HostProcess> process_;
    std::chrono::steady_clock::time_point startedAt_;
    std::thread thread_;
};

}  // namespace mxbridge::purple
