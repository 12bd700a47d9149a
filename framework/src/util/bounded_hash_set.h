// A fixed-memory set of 64-bit hashes that forgets the oldest entry when full: the journal's
// "seen recently" memory for event ids and (txnId, body) pairs. Open addressing with linear
// probing and backward-shift deletion, plus a FIFO ring for eviction order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mxbridge::detail {

class BoundedHashSet {
public:
    explicit BoundedHashSet(size_t capacity);

    bool contains(uint64_t key) const;
    // Returns false when the key was already present.
    bool insert(uint64_t key);
    // Forgets a key (used to undo a batch whose commit failed).
    void erase(uint64_t key);
    // Hints that `key` is about to be inserted or looked up, and so are the `evictions`
    // oldest keys that the next inserts will forget: the table is megabytes, so each probe
    // is a cache miss, and a batch can wait for all of its misses at once instead of in turn.
    void prefetch(uint64_t key) const { __builtin_prefetch(&table_[slotOf(normalise(key))]); }
    void prefetchEvictions(size_t evictions) const;
    size_t size() const { return size_; }
    size_t capacity() const { return ring_.size(); }

private:
    static uint64_t normalise(uint64_t key) { return key == 0 ? 1 : key; }  // 0 marks empty
    size_t slotOf(uint64_t key) const { return (key * 0x9e3779b97f4a7c15ULL) >> shift_; }
    void eraseSlot(uint64_t key);

    std::vector<uint64_t> table_;
    std::vector<uint64_t> ring_;
    size_t ringHead_ = 0;
    size_t size_ = 0;
    size_t mask_ = 0;
    int shift_ = 0;
};

}  // namespace mxbridge::detail
