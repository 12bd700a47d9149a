// The hosts of one bridge: accounts are placed on hosts, at most `accounts_per_host` each,
// a new host started when every one is full, so a plugin that crashes its host takes down
// only the accounts placed with it. An account stays on its host (across the host's
// restarts) until it logs out.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "host_supervisor.h"

namespace mxbridge::purple {

class HostPool {
public:
    struct Callbacks {
        std::function<void(std::size_t host, const wire::Message&)> onEvent;
        std::function<void(std::size_t host)> onHostUp;
        std::function<void(std::size_t host, const std::string& why)> onHostDown;
    };

    HostPool(PurpleBridgeConfig config, std::function<Logger()> makeLogger, Callbacks callbacks);
    ~HostPool();  // stop()

    // Starts host 0 (which also answers for the protocol list); waits for it like
    // HostSupervisor::start.
    bool start(std::chrono::milliseconds timeout);
    void stop();

    // The host of `account`: the one it was placed on, else the first with room, else a new
    // one (started now; requests fail with host_gone until it is up, and its onHostUp
    // follows).
    std::size_t place(const std::string& account);
    // The account logged out: its place is free.
    void release(const std::string& account);
    // Moves `account` to a new host that carries nothing else (started now), and returns it;
    // nullopt (nothing moved) for an account alone on its host already.
    std::optional<std::size_t> isolate(const std::string& account);
    std::optional<std::size_t> hostOf(const std::string& account) const;

    // A request about `account`, to its host (placing it first if needed).
    void request(const std::string& account, std::string type, wire::Record body, std::chrono::milliseconds timeout,
                 HostChannel::ReplyHandler done);
    // A request to a given host (an account's former one).
    void requestOn(std::size_t host, std::string type, wire::Record body, std::chrono::milliseconds timeout,
                   HostChannel::ReplyHandler done);
    // Runs `task` after `delay` on host 0's supervisor thread.
    void after(std::chrono::milliseconds delay, std::function<void()> task);
    std::optional<wire::ProtocolList> protocols() const;
    std::size_t hosts() const;

private:
    HostSupervisor* supervisor(std::size_t host) const;
    // A new host at the end of hosts_ with `load` places taken; under mutex_.
    HostSupervisor* addHost(std::size_t load);

    PurpleBridgeConfig config_;
    std::function<Logger()> makeLogger_;
    Callbacks callbacks_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<HostSupervisor>> hosts_;
    std::map<std::string, std::size_t> placed_;  // account -> host
    std::vector<std::size_t> load_;              // accounts placed per host
    bool stopped_ = false;
};

}  // namespace mxbridge::purple
