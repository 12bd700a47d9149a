#include "host_session.h"

namespace mxbridge::test {

HostSession::HostSession() {
    process_ = std::make_unique<purple::HostProcess>(
        purple::HostLaunch{.program = MXBRIDGE_PURPLE_HOST_PATH,
                           .userDir = userDir().string(),
                           .pluginDirs = {},
                           .logLines = 200,
                           .onLogLine = {}});
    channel_ = std::make_unique<purple::HostChannel>(
        process_->fd(),
        [this](const purple::wire::Message& event) {
            std::lock_guard lock(mutex_);
            events_.push_back(event);
            arrived_.notify_all();
        },
        [this](const std::string&) {
            std::lock_guard lock(mutex_);
            closed_ = true;
            arrived_.notify_all();
        });
}

HostSession::~HostSession() {
    channel_->close();
    channel_.reset();
    process_.reset();
}

purple::HostReply HostSession::call(const std::string& type, purple::wire::Record body,
                                    std::chrono::milliseconds timeout) {
    return channel_->call(type, std::move(body), timeout);
}

std::optional<purple::wire::Message> HostSession::waitEvent(
    const std::string& type, std::chrono::milliseconds timeout,
    const std::function<bool(const purple::wire::Record&)>& match) {
    std::unique_lock lock(mutex_);
    std::optional<purple::wire::Message> found;
    arrived_.wait_for(lock, timeout, [&] {
        for (auto it = events_.begin(); it != events_.end(); ++it)
            if (it->type == type && match(it->body)) {
                found = std::move(*it);
                events_.erase(it);
                return true;
            }
        return false;
    });
    return found;
}

bool HostSession::closed() {
    std::lock_guard lock(mutex_);
    return closed_;
}

std::string HostSession::log() const {
    std::string out;
    for (const auto& line : process_->lastLogLines()) out += "[host] " + line + "\n";
    return out;
}

}  // namespace mxbridge::test
