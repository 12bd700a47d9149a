#include "host_pool.h"

#include <algorithm>

namespace mxbridge::purple {

HostPool::HostPool(PurpleBridgeConfig config, std::function<Logger()> makeLogger, Callbacks callbacks)
    : config_(std::move(config)), makeLogger_(std::move(makeLogger)), callbacks_(std::move(callbacks)) {}

HostPool::~HostPool() { stop(); }

bool HostPool::start(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (hosts_.empty()) {
        auto supervisor = std::make_unique<HostSupervisor>(
            0, config_, makeLogger_(),
            HostSupervisor::Callbacks{.onEvent = [this](const wire::Message& m) { callbacks_.onEvent(0, m); },
                                      .onHostUp = [this] { callbacks_.onHostUp(0); },
                                      .onHostDown = [this](const std::string& why) { callbacks_.onHostDown(0, why); }});
        hosts_.push_back(std::move(supervisor));
        load_.push_back(0);
    }
    HostSupervisor* first = hosts_.front().get();
    lock.unlock();
    return first->start(timeout);
}

void HostPool::stop() {
    std::vector<HostSupervisor*> all;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        for (auto& host : hosts_) all.push_back(host.get());
    }
    for (auto* host : all) host->stop();
}

std::size_t HostPool::place(const std::string& account) {
    HostSupervisor* fresh = nullptr;
    std::size_t host;
    {
        std::lock_guard lock(mutex_);
        if (auto it = placed_.find(account); it != placed_.end()) return it->second;
        host = load_.size();
        for (std::size_t i = 0; i < load_.size(); ++i)
            if (load_[i] < config_.accountsPerHost) {
                host = i;
                break;
            }
        if (host == load_.size() && !stopped_) fresh = addHost(0);
        if (host < load_.size()) ++load_[host];
        placed_[account] = host;
    }
    // Started outside the lock: its first hello comes on its own thread.
    if (fresh) fresh->start(std::chrono::milliseconds(0));
    return host;
}

HostSupervisor* HostPool::addHost(std::size_t load) {
    std::size_t host = hosts_.size();
    hosts_.push_back(std::make_unique<HostSupervisor>(
        host, config_, makeLogger_(),
        HostSupervisor::Callbacks{
            .onEvent = [this, host](const wire::Message& m) { callbacks_.onEvent(host, m); },
            .onHostUp = [this, host] { callbacks_.onHostUp(host); },
            .onHostDown = [this, host](const std::string& why) { callbacks_.onHostDown(host, why); }}));
    load_.push_back(load);
    return hosts_.back().get();
}

std::optional<std::size_t> HostPool::isolate(const std::string& account) {
    HostSupervisor* fresh = nullptr;
    std::size_t host;
    {
        std::lock_guard lock(mutex_);
        auto it = placed_.find(account);
        if ((it != placed_.end() && load_[it->second] <= 1) || stopped_) return std::nullopt;
        if (it != placed_.end() && load_[it->second] > 0) --load_[it->second];
        host = hosts_.size();
        // Counted as full, so nothing else is ever placed with it.
        fresh = addHost(std::max<std::size_t>(config_.accountsPerHost, 1));
        placed_[account] = host;
    }
    fresh->start(std::chrono::milliseconds(0));
    return host;
}

void HostPool::release(const std::string& account) {
    std::lock_guard lock(mutex_);
    auto it = placed_.find(account);
    if (it == placed_.end()) return;
    if (it->second < load_.size() && load_[it->second] > 0) --load_[it->second];
    placed_.erase(it);
}

std::optional<std::size_t> HostPool::hostOf(const std::string& account) const {
    std::lock_guard lock(mutex_);
    auto it = placed_.find(account);
    if (it == placed_.end()) return std::nullopt;
    return it->second;
}

HostSupervisor* HostPool::supervisor(std::size_t host) const {
    std::lock_guard lock(mutex_);
    return host < hosts_.size() ? hosts_[host].get() : nullptr;
}

void HostPool::request(const std::string& account, std::string type, wire::Record body,
                       std::chrono::milliseconds timeout, HostChannel::ReplyHandler done) {
    requestOn(place(account), std::move(type), std::move(body), timeout, std::move(done));
}

void HostPool::requestOn(std::size_t index, std::string type, wire::Record body, std::chrono::milliseconds timeout,
                         HostChannel::ReplyHandler done) {
    HostSupervisor* host = supervisor(index);
    if (!host) {
        done(HostReply{.ok = false, .body = {}, .code = "host_gone", .text = "the bridge is stopping"});
        return;
    }
    host->request(std::move(type), std::move(body), timeout, std::move(done));
}

void HostPool::after(std::chrono::milliseconds delay, std::function<void()> task) {
    if (HostSupervisor* first = supervisor(0)) first->after(delay, std::move(task));
}

std::optional<wire::ProtocolList> HostPool::protocols() const {
    HostSupervisor* first = supervisor(0);
    return first ? first->protocols() : std::nullopt;
}

std::size_t HostPool::hosts() const {
    std::lock_guard lock(mutex_);
    return hosts_.size();
}

}  // namespace mxbridge::purple
