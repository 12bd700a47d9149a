// The inbound connections one listener holds, so it stays under a cap (each costs a file
// descriptor and up to a header's worth of buffer) and yet always has room for the
// homeserver: when full, a new connection takes the slot of the untrusted connection that
// has waited longest for its next request (an idle client, or one trickling a header);
// connections that carried a request authenticated as the homeserver are never taken.
// Issue 9, item 21: 1,100 idle connections once left transactions and /health unanswered.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace mxbridge::detail {

class ConnectionTable : public std::enable_shared_from_this<ConnectionTable> {
public:
    // One connection's place in the table; leaves it when destroyed.
    class Slot {
    public:
        ~Slot();
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;

        // It carried a request authenticated as the homeserver: never evicted from now on.
        void markTrusted() { trusted_.store(true, std::memory_order_relaxed); }
        bool trusted() const { return trusted_.load(std::memory_order_relaxed); }
        // Waiting for (or reading) the next request's header, or lingering after a refusal:
        // the states in which an untrusted connection may be evicted.
        void setWaiting(bool waiting);

    private:
        friend class ConnectionTable;
        Slot(std::shared_ptr<ConnectionTable> table, std::function<void()> evict)
            : table_(std::move(table)), evict_(std::move(evict)) {}

        std::shared_ptr<ConnectionTable> table_;
        std::function<void()> evict_;  // asks the connection to close; must not block
        std::atomic<bool> trusted_{false};
        std::atomic<bool> waiting_{true};
        std::atomic<int64_t> waitingSinceMs_{0};
        bool evicting_ = false;  // guarded by the table's mutex
    };

    static std::shared_ptr<ConnectionTable> create(std::size_t capacity) {
        return std::shared_ptr<ConnectionTable>(new ConnectionTable(capacity));
    }

    // A slot for a new connection, making room by evicting if the table is full (the
    // victim's `evict` is called, outside the table's lock, and must not block). nullptr
    // when every slot is held by the homeserver or by a request being served.
    std::unique_ptr<Slot> admit(std::function<void()> evict);

    std::size_t capacity() const { return capacity_; }
    std::size_t open() const;

private:
    explicit ConnectionTable(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
    void leave(Slot* slot);

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::vector<Slot*> slots_;
    std::size_t evicting_ = 0;  // slots asked to close that have not closed yet
};

}  // namespace mxbridge::detail
