#include "appservice/connection_table.h"

#include <algorithm>
#include <chrono>

namespace mxbridge::detail {

namespace {

int64_t steadyMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ConnectionTable::Slot::~Slot() { table_->leave(this); }

void ConnectionTable::Slot::setWaiting(bool waiting) {
    if (waiting) waitingSinceMs_.store(steadyMs(), std::memory_order_relaxed);
    waiting_.store(waiting, std::memory_order_relaxed);
}

std::unique_ptr<ConnectionTable::Slot> ConnectionTable::admit(std::function<void()> evict) {
    std::function<void()> evictVictim;
    std::unique_ptr<Slot> slot;
    {
        std::lock_guard lock(mutex_);
        // Slots being evicted count as free: their connections are closing.
        if (slots_.size() - evicting_ >= capacity_) {
            Slot* victim = nullptr;
            for (Slot* s : slots_) {
                if (s->evicting_ || s->trusted() || !s->waiting_.load(std::memory_order_relaxed)) continue;
                if (!victim || s->waitingSinceMs_.load(std::memory_order_relaxed) <
                                   victim->waitingSinceMs_.load(std::memory_order_relaxed))
                    victim = s;
            }
            if (!victim) return nullptr;
            victim->evicting_ = true;
            ++evicting_;
            evictVictim = victim->evict_;
        }
        slot.reset(new Slot(shared_from_this(), std::move(evict)));
        slot->setWaiting(true);
        slots_.push_back(slot.get());
    }
    // Outside the lock: asking may drop the last reference to the victim's connection,
    // whose slot then leaves the table (and takes the lock) on this thread.
    if (evictVictim) evictVictim();
    return slot;
}

std::size_t ConnectionTable::open() const {
    std::lock_guard lock(mutex_);
    return slots_.size();
}

void ConnectionTable::leave(Slot* slot) {
    std::lock_guard lock(mutex_);
    auto it = std::find(slots_.begin(), slots_.end(), slot);
    if (it == slots_.end()) return;
    if (slot->evicting_) --evicting_;
    *it = slots_.back();
    slots_.pop_back();
}

}  // namespace mxbridge::detail
