// A host started for one test: its process, its channel, and the events it sent, which a
// test waits for with a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/purple/host_channel.h"
#include "mxbridge/purple/host_process.h"
#include "temp_dir.h"

namespace mxbridge::test {

class HostSession {
public:
    HostSession();
    ~HostSession();

    purple::HostProcess& process() { return *process_; }
    // The host's libpurple folder (accounts.xml, blist.xml…).
    std::filesystem::path userDir() const { return dir_ / "purple"; }
    purple::HostChannel& channel() { return *channel_; }
    purple::HostReply call(const std::string& type, purple::wire::Record body = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // The first event not yet taken of `type` that `match` accepts, waiting up to `timeout`;
    // nullopt at the deadline.
    std::optional<purple::wire::Message> waitEvent(
        const std::string& type, std::chrono::milliseconds timeout,
        const std::function<bool(const purple::wire::Record&)>& match = [](const purple::wire::Record&) { return true; });
    bool closed();
    // The host's last stderr lines, for failure messages.
    std::string log() const;

private:
    TempDir dir_{"mxbridge-purple-host"};
    std::unique_ptr<purple::HostProcess> process_;
    std::unique_ptr<purple::HostChannel> channel_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<purple::wire::Message> events_;
    bool closed_ = false;
};

}  // namespace mxbridge::test
