#include "mxbridge/purple/host_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <vector>

#include "mxbridge/purple/seqpacket.h"

namespace mxbridge::purple {

HostChannel::HostChannel(int fd, EventHandler onEvent, std::function<void(std::string)> onClosed)
    : fd_(fd), onEvent_(std::move(onEvent)), onClosed_(std::move(onClosed)) {
    if (::pipe2(wakeFd_, O_CLOEXEC) != 0) wakeFd_[0] = wakeFd_[1] = -1;
    reader_ = std::thread([this] { readLoop(); });
    timer_ = std::thread([this] { timerLoop(); });
}

HostChannel::~HostChannel() {
    close();
    for (int fd : wakeFd_)
        if (fd >= 0) ::close(fd);
}

void HostChannel::close() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    if (wakeFd_[1] >= 0) {
        char byte = 0;
        ssize_t ignored = ::write(wakeFd_[1], &byte, 1);
        (void)ignored;
    }
    timerWake_.notify_all();
    if (reader_.joinable() && reader_.get_id() != std::this_thread::get_id()) reader_.join();
    if (timer_.joinable() && timer_.get_id() != std::this_thread::get_id()) timer_.join();
    failAll("host_gone", "the channel was closed");
}

void HostChannel::request(std::string type, wire::Record body, std::chrono::milliseconds timeout, ReplyHandler done) {
    std::uint32_t id;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            // Outside the lock: the handler may take locks of its own.
            id = 0;
        } else {
            id = ++nextId_;
            if (id == 0) id = ++nextId_;
            pending_[id] = Pending{.done = done, .deadline = std::chrono::steady_clock::now() + timeout};
        }
    }
    if (id == 0) {
        done(HostReply{.ok = false, .body = {}, .code = "host_gone", .text = "the host is gone"});
        return;
    }
    timerWake_.notify_all();
    std::string frame;
    try {
        frame = wire::encode(wire::Message{.kind = wire::Kind::Request, .id = id, .type = std::move(type),
                                           .body = std::move(body)});
    } catch (const wire::EncodeError& e) {
        finish(id, HostReply{.ok = false, .body = {}, .code = "encode", .text = e.what()});
        return;
    }
    if (int error = wire::writeFrame(fd_, frame); error != 0)
        finish(id, HostReply{.ok = false, .body = {}, .code = "host_gone",
                             .text = std::string("writing to the host failed: ") + std::strerror(error)});
}

HostReply HostChannel::call(std::string type, wire::Record body, std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<HostReply>>();
    auto future = promise->get_future();
    request(std::move(type), std::move(body), timeout, [promise](HostReply reply) { promise->set_value(std::move(reply)); });
    return future.get();
}

void HostChannel::finish(std::uint32_t id, HostReply reply) {
    ReplyHandler done;
    {
        std::lock_guard lock(mutex_);
        auto it = pending_.find(id);
        if (it == pending_.end()) return;  // answered already, or timed out
        done = std::move(it->second.done);
        pending_.erase(it);
    }
    done(std::move(reply));
}

void HostChannel::failAll(const std::string& code, const std::string& text) {
    std::map<std::uint32_t, Pending> open;
    {
        std::lock_guard lock(mutex_);
        open.swap(pending_);
    }
    for (auto& [id, pending] : open) pending.done(HostReply{.ok = false, .body = {}, .code = code, .text = text});
}

void HostChannel::readLoop() {
    std::string why;
    for (;;) {
        pollfd fds[2] = {{.fd = fd_, .events = POLLIN, .revents = 0}, {.fd = wakeFd_[0], .events = POLLIN, .revents = 0}};
        int ready = ::poll(fds, wakeFd_[0] >= 0 ? 2 : 1, wakeFd_[0] >= 0 ? -1 : 100);
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        if (ready <= 0) continue;
        wire::ReadResult read = wire::readFrame(fd_, /*dontWait=*/true);
        if (read.status == wire::ReadStatus::WouldBlock) continue;
        if (read.status == wire::ReadStatus::Closed) {
            why = "the host closed its end";
            break;
        }
        if (read.status == wire::ReadStatus::Failed) {
            why = std::string("reading from the host failed: ") + std::strerror(read.error);
            break;
        }
        if (read.status == wire::ReadStatus::Oversized) continue;
        wire::DecodeResult decoded = wire::decode(read.frame);
        if (!decoded.ok()) {
            if (decoded.error().code == wire::DecodeError::Code::UnsupportedVersion ||
                decoded.error().code == wire::DecodeError::Code::BadMagic) {
                why = "the host speaks another wire: " + decoded.error().describe();
                break;
            }
            continue;  // one bad frame; the next may be fine
        }
        wire::Message& message = decoded.message();
        if (message.kind == wire::Kind::Event) {
            if (onEvent_) onEvent_(message);
        } else if (message.kind == wire::Kind::Reply) {
            finish(message.id, HostReply{.ok = true, .body = std::move(message.body), .code = {}, .text = {}});
        } else if (message.kind == wire::Kind::Error) {
            wire::ErrorBody error{.code = "internal", .text = "an error reply without a code"};
            try {
                error = wire::ErrorBody::fromRecord(message.body);
            } catch (const wire::FieldError&) {
            }
            finish(message.id, HostReply{.ok = false, .body = {}, .code = error.code, .text = error.text});
        }
    }
    failAll("host_gone", why);
    if (onClosed_) onClosed_(why);
}

void HostChannel::timerLoop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        std::vector<std::uint32_t> expired;
        auto next = now + std::chrono::seconds(1);
        for (const auto& [id, pending] : pending_) {
            if (pending.deadline <= now)
                expired.push_back(id);
            else if (pending.deadline < next)
                next = pending.deadline;
        }
        if (!expired.empty()) {
            lock.unlock();
            for (auto id : expired)
                finish(id, HostReply{.ok = false, .body = {}, .code = "timeout", .text = "the host did not answer in time"});
            lock.lock();
            continue;
        }
        timerWake_.wait_until(lock, next);
    }
}

}  // namespace mxbridge::purple
