#include "util/bounded_hash_set.h"

#include <bit>
#include <stdexcept>

namespace mxbridge::detail {

BoundedHashSet::BoundedHashSet(size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("BoundedHashSet capacity must be positive");
    // Keep the load factor at or under 1/2 so probes stay short.
    size_t slots = std::bit_ceil(capacity * 2);
    table_.assign(slots, 0);
    mask_ = slots - 1;
    shift_ = 64 - std::countr_zero(slots);
    ring_.assign(capacity, 0);
}

bool BoundedHashSet::contains(uint64_t key) const {
    key = normalise(key);
    for (size_t i = slotOf(key);; i = (i + 1) & mask_) {
        if (table_[i] == key) return true;
        if (table_[i] == 0) return false;
    }
}

void BoundedHashSet::prefetchEvictions(size_t evictions) const {
    size_t n = ring_.size();
    for (size_t k = 0, i = ringHead_; k < evictions && k < n; ++k, i = (i + 1) % n) {
        if (ring_[i] != 0) prefetch(ring_[i]);
    }
}

bool BoundedHashSet::insert(uint64_t key) {
    key = normalise(key);
    if (contains(key)) return false;
    // The ring slot we are about to reuse holds the oldest entry: forget it first.
    uint64_t oldest = ring_[ringHead_];
    if (oldest != 0 && contains(oldest)) {
        eraseSlot(oldest);
        --size_;
    }
    size_t i = slotOf(key);
    while (table_[i] != 0) i = (i + 1) & mask_;
    table_[i] = key;
    ++size_;
    ring_[ringHead_] = key;
    ringHead_ = (ringHead_ + 1) % ring_.size();
    return true;
}

void BoundedHashSet::erase(uint64_t key) {
    key = normalise(key);
    if (!contains(key)) return;
    eraseSlot(key);
    --size_;
    // Take its ring entry out too, shifting newer entries back, so the set evicts nothing
    // until it is full again (a stale entry would evict the oldest key early, or the key
    // itself if inserted again). erase() undoes recent inserts: the walk back is short.
    size_t n = ring_.size(), i = (ringHead_ + n - 1) % n;
    while (ring_[i] != key) i = (i + n - 1) % n;
    for (size_t j = (i + 1) % n; j != ringHead_; i = j, j = (j + 1) % n) ring_[i] = ring_[j];
    ring_[i] = 0;
    ringHead_ = i;
}

void BoundedHashSet::eraseSlot(uint64_t key) {
    size_t i = slotOf(key);
    while (table_[i] != key) {
        if (table_[i] == 0) return;
        i = (i + 1) & mask_;
    }
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; table_[j] != 0; j = (j + 1) & mask_) {
        size_t home = slotOf(table_[j]);
        bool canMove = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (canMove) {
            table_[hole] = table_[j];
            hole = j;
        }
    }
    table_[hole] = 0;
}

}  // namespace mxbridge::detail
