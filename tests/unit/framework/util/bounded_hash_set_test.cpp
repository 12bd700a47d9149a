// BoundedHashSet: the journal's memory of recent transactions and event ids.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <unordered_set>

#include "util/bounded_hash_set.h"

using mxbridge::detail::BoundedHashSet;

TEST_CASE("an inserted key is contained and a second insert reports it was already there") {
    BoundedHashSet set(8);
    CHECK_FALSE(set.contains(42));
    CHECK(set.insert(42));
    CHECK(set.contains(42));
    CHECK_FALSE(set.insert(42));
    CHECK(set.size() == 1);
    CHECK(set.capacity() == 8);
}

TEST_CASE("key 0 is stored like any other key, although 0 marks empty slots") {
    BoundedHashSet set(4);
    CHECK_FALSE(set.contains(0));
    CHECK(set.insert(0));
    CHECK(set.contains(0));
    set.erase(0);
    CHECK_FALSE(set.contains(0));
}

TEST_CASE("at capacity the oldest key is forgotten first, in insertion order") {
    BoundedHashSet set(3);
    for (uint64_t k : {10, 20, 30}) CHECK(set.insert(k));
    CHECK(set.size() == 3);
    CHECK(set.insert(40));
    CHECK_FALSE(set.contains(10));
    CHECK(set.contains(20));
    CHECK(set.contains(30));
    CHECK(set.contains(40));
    CHECK(set.insert(50));
    CHECK_FALSE(set.contains(20));
    CHECK(set.size() == 3);
    // A repeated insert does not refresh a key's age.
    CHECK_FALSE(set.insert(30));
    CHECK(set.insert(60));
    CHECK_FALSE(set.contains(30));
}

TEST_CASE("an erased key is gone and the other keys of its probe run stay reachable") {
    // Keys chosen to collide: a small table and many keys force long probe runs, so erasing
    // from the middle exercises backward-shift deletion.
    BoundedHashSet set(64);
    for (uint64_t k = 1; k <= 64; ++k) set.insert(k * 1024);
    for (uint64_t k = 1; k <= 64; k += 3) set.erase(k * 1024);
    for (uint64_t k = 1; k <= 64; ++k) CHECK(set.contains(k * 1024) == ((k - 1) % 3 != 0));
    CHECK(set.size() == 64 - 22);
    set.erase(999999);  // absent: no effect
    CHECK(set.size() == 64 - 22);
}

TEST_CASE("a key erased and inserted again, as a rolled-back batch is retried, is kept a full window") {
    // Journal::run erases the keys of a batch whose commit failed; the homeserver then retries
    // the same transaction. Its key must then be remembered for `capacity` more inserts, as
    // any other key is, and the set must not forget anything while it is not full.
    BoundedHashSet set(4);
    for (uint64_t k : {1, 2, 3, 4}) set.insert(k);
    set.erase(4);
    CHECK(set.size() == 3);
    CHECK(set.insert(4));
    CHECK(set.insert(5));
    CHECK(set.insert(6));
    CHECK(set.insert(7));
    CHECK(set.contains(4));
    CHECK(set.contains(7));
    CHECK(set.size() == 4);
}

TEST_CASE("many random inserts and lookups agree with a FIFO-evicting model set") {
    for (size_t capacity : {1u, 2u, 7u, 64u, 1000u}) {
        CAPTURE(capacity);
        BoundedHashSet set(capacity);
        std::unordered_set<uint64_t> model;
        std::deque<uint64_t> order;
        std::mt19937_64 rng(capacity * 7919);
        // A small key space so repeats and evictions both happen often.
        std::uniform_int_distribution<uint64_t> key(1, capacity * 3 + 1);  // 0 and 1 are one key (normalise)
        for (int op = 0; op < 20000; ++op) {
            uint64_t k = key(rng);
            if (rng() % 2) {
                bool fresh = !model.count(k);
                if (fresh) {
                    if (model.size() == capacity) {
                        model.erase(order.front());
                        order.pop_front();
                    }
                    model.insert(k);
                    order.push_back(k);
                }
                REQUIRE(set.insert(k) == fresh);
            } else {
                REQUIRE(set.contains(k) == (model.count(k) == 1));
            }
            REQUIRE(set.size() == model.size());
        }
    }
}

TEST_CASE("random inserts, lookups and erases of the newest keys agree with the model") {
    // erase() is used only to undo the newest inserts (a failed commit), so the model erases
    // the most recently inserted keys and the implementation must behave as if they had
    // never been inserted.
    BoundedHashSet set(50);
    std::deque<uint64_t> order;  // present keys, oldest first
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<uint64_t> key(1, 201);
    for (int op = 0; op < 20000; ++op) {
        uint64_t k = key(rng);
        int what = static_cast<int>(rng() % 10);
        bool present = std::find(order.begin(), order.end(), k) != order.end();
        if (what < 5) {
            if (!present) {
                if (order.size() == 50) order.pop_front();
                order.push_back(k);
            }
            REQUIRE(set.insert(k) == !present);
        } else if (what < 6 && !order.empty()) {
            size_t n = std::min<size_t>(order.size(), 1 + rng() % 3);
            for (size_t i = 0; i < n; ++i) {
                set.erase(order.back());
                order.pop_back();
            }
        } else {
            REQUIRE(set.contains(k) == present);
        }
        REQUIRE(set.size() == order.size());
    }
}
