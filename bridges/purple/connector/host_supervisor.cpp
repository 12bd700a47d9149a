#include "host_supervisor.h"

#include <csignal>
#include <filesystem>

namespace mxbridge::purple {

namespace {

// A host that ran this long before it died was healthy: the next one starts without waiting
// out the back-off of earlier crashes.
constexpr std::chrono::seconds kHealthyRun{30};
constexpr std::chrono::seconds kHelloTimeout{10};

}  // namespace

HostSupervisor::HostSupervisor(std::size_t index, PurpleBridgeConfig config, Logger log, Callbacks callbacks,
                               BackoffOptions backoff)
    : index_(index),
      config_(std::move(config)), log_(std::move(log)), callbacks_(std::move(callbacks)), backoff_(backoff) {}

HostSupervisor::~HostSupervisor() { stop(); }

bool HostSupervisor::start(std::chrono::milliseconds timeout) {
    thread_ = std::thread([this] { run(); });
    post([this] { launch(); }, std::chrono::steady_clock::now());
    std::unique_lock lock(mutex_);
    return ready_.wait_for(lock, timeout, [this] { return protocols_.has_value() || stopping_; }) &&
           protocols_.has_value();
}

void HostSupervisor::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    ready_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void HostSupervisor::post(std::function<void()> task, std::chrono::steady_clock::time_point when) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        tasks_.emplace(when, std::move(task));
    }
    wake_.notify_all();
}

void HostSupervisor::after(std::chrono::milliseconds delay, std::function<void()> task) {
    post(std::move(task), std::chrono::steady_clock::now() + delay);
}

void HostSupervisor::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (tasks_.empty()) {
            wake_.wait(lock);
            continue;
        }
        auto first = tasks_.begin();
        if (first->first > std::chrono::steady_clock::now()) {
            wake_.wait_until(lock, first->first);
            continue;
        }
        auto task = std::move(first->second);
        tasks_.erase(first);
        lock.unlock();
        task();
        lock.lock();
    }
    // Stopping: the host goes with the supervisor.
    auto channel = std::move(channel_);
    tasks_.clear();
    lock.unlock();
    if (channel) channel->close();
    process_.reset();
}

void HostSupervisor::launch() {
    std::uint64_t generation;
    {
        std::lock_guard lock(mutex_);
        generation = ++generation_;
        ++starts_;
    }
    std::string userDir = (std::filesystem::path(config_.dataDir) / ("host-" + std::to_string(index_))).string();
    try {
        process_ = std::make_unique<HostProcess>(HostLaunch{.program = config_.hostProgram,
                                                            .userDir = userDir,
                                                            .pluginDirs = config_.pluginDirs,
                                                            .logLines = 30,
                                                            .onLogLine = {}});
    } catch (const std::exception& e) {
        log_.error("cannot start the purple host", {{"host", std::to_string(index_)}, {"error", e.what()}});
        lose(generation, e.what());
        return;
    }
    startedAt_ = std::chrono::steady_clock::now();
    auto channel = std::make_shared<HostChannel>(
        process_->fd(),
        [this](const wire::Message& event) {
            if (callbacks_.onEvent) callbacks_.onEvent(event);
        },
        [this, generation](std::string why) {
            post([this, generation, why] { lose(generation, why); }, std::chrono::steady_clock::now());
        });
    HostReply hello = channel->call(std::string(wire::Hello::kType),
                                    wire::Hello{.version = wire::kVersion, .client = "mxbridge"}.toRecord(),
                                    kHelloTimeout);
    HostReply protocols = hello.ok ? channel->call(std::string(wire::ProtocolList::kType), {}, kHelloTimeout) : hello;
    if (!hello.ok || !protocols.ok) {
        channel->close();
        lose(generation, "no hello from the host: " + (hello.ok ? protocols.text : hello.text));
        return;
    }
    wire::HelloReply helloReply;
    wire::ProtocolList list;
    try {
        helloReply = wire::HelloReply::fromRecord(hello.body);
        list = wire::ProtocolList::fromRecord(protocols.body);
    } catch (const wire::FieldError& e) {
        channel->close();
        lose(generation, std::string("the host's hello is malformed: ") + e.what());
        return;
    }
    log_.info("purple host started", {{"host", std::to_string(index_)},
                                      {"pid", std::to_string(helloReply.pid)},
                                      {"libpurple", helloReply.libpurpleVersion},
                                      {"protocols", std::to_string(list.protocols.size())}});
    {
        std::lock_guard lock(mutex_);
        channel_ = channel;
        pid_ = helloReply.pid;
        protocols_ = std::move(list);
    }
    ready_.notify_all();
    if (callbacks_.onHostUp) callbacks_.onHostUp();
    after(config_.pingInterval, [this, generation] { ping(generation); });
}

void HostSupervisor::ping(std::uint64_t generation) {
    std::shared_ptr<HostChannel> channel;
    {
        std::lock_guard lock(mutex_);
        if (generation != generation_ || !channel_) return;
        channel = channel_;
    }
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config_.pingTimeout);
    channel->request(std::string(wire::kPing), {}, timeout, [this, generation](HostReply reply) {
        if (reply.ok) {
            after(config_.pingInterval, [this, generation] { ping(generation); });
            return;
        }
        std::string why = reply.code == "timeout" ? "the host stopped answering pings" : reply.text;
        post([this, generation, why] { lose(generation, why); }, std::chrono::steady_clock::now());
    });
}

void HostSupervisor::lose(std::uint64_t generation, const std::string& why) {
    std::shared_ptr<HostChannel> channel;
    {
        std::lock_guard lock(mutex_);
        if (generation != generation_ || stopping_) return;
        ++generation_;  // whatever the old host still reports is ignored from now on
        channel = std::move(channel_);
        pid_ = 0;
    }
    if (channel) channel->close();  // joins its reader here, on the supervisor thread
    std::string ended = "not started";
    std::vector<std::string> lines;
    if (process_) {
        // A host that hangs is still running: it goes now.
        if (!process_->waitExit(std::chrono::milliseconds(0))) {
            process_->kill(SIGKILL);
        }
        auto exit = process_->waitExit(std::chrono::seconds(5));
        ended = exit ? exit->describe() : "did not exit after SIGKILL";
        lines = process_->lastLogLines();
        process_.reset();
    }
    if (std::chrono::steady_clock::now() - startedAt_ > kHealthyRun) backoff_.reset();
    auto wait = backoff_.next();
    log_.warn("purple host lost; starting another", {{"host", std::to_string(index_)},
                                                    {"why", why},
                                                    {"host", ended},
                                                    {"restart_in_ms", std::to_string(wait.count())}});
    for (const auto& line : lines) log_.warn("purple host said", {{"host", std::to_string(index_)}, {"line", line}});
    if (callbacks_.onHostDown) callbacks_.onHostDown(why);
    after(wait, [this] { launch(); });
}

void HostSupervisor::request(std::string type, wire::Record body, std::chrono::milliseconds timeout,
                             HostChannel::ReplyHandler done) {
    std::shared_ptr<HostChannel> channel;
    {
        std::lock_guard lock(mutex_);
        channel = channel_;
    }
    if (!channel) {
        done(HostReply{.ok = false, .body = {}, .code = "host_gone", .text = "no purple host is running"});
        return;
    }
    channel->request(std::move(type), std::move(body), timeout, std::move(done));
}

std::optional<wire::ProtocolList> HostSupervisor::protocols() const {
    std::lock_guard lock(mutex_);
    return protocols_;
}

bool HostSupervisor::hostUp() const {
    std::lock_guard lock(mutex_);
    return channel_ != nullptr;
}

std::int64_t HostSupervisor::hostPid() const {
    std::lock_guard lock(mutex_);
    return pid_;
}

std::uint64_t HostSupervisor::starts() const {
    std::lock_guard lock(mutex_);
    return starts_;
}

}  // namespace mxbridge::purple
