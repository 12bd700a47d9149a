// What callbacks record on a daemon's or a loop's thread, for the test thread to wait on:
// a list that only grows, and a bounded wait for an entry matching a predicate.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace mxbridge::test {

template <typename T>
class Recorder {
public:
    void push(T value) {
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(value));
        changed_.notify_all();
    }

    // The first entry at index `from` or later matching `pred`, waiting up to `timeout`.
    std::optional<T> wait(const std::function<bool(const T&)>& pred,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10),
                          std::size_t from = 0) const {
        std::optional<T> found;
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] {
            for (std::size_t i = from; i < entries_.size(); ++i)
                if (pred(entries_[i])) {
                    found = entries_[i];
                    return true;
                }
            return false;
        });
        return found;
    }

    std::vector<T> all() const {
        std::lock_guard lock(mutex_);
        return entries_;
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<T> entries_;
};

}  // namespace mxbridge::test
