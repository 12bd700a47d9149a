// ConnectionTable: a listener's connections under a cap, with room kept for the homeserver.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "appservice/connection_table.h"

using namespace mxbridge::detail;

TEST_CASE("a full table evicts the untrusted connection that waited longest, and never the homeserver's") {
    auto table = ConnectionTable::create(3);
    std::vector<int> evicted;
    auto evictor = [&](int id) { return [&evicted, id] { evicted.push_back(id); }; };
    auto homeserver = table->admit(evictor(0));
    homeserver->markTrusted();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto older = table->admit(evictor(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto newer = table->admit(evictor(2));
    CHECK(table->open() == 3);
    CHECK(evicted.empty());

    // Full: the oldest waiting stranger makes room, not the (older still) homeserver.
    auto fourth = table->admit(evictor(3));
    REQUIRE(fourth);
    CHECK(evicted == std::vector<int>{1});
    // The evicted one is closing: it counts as free until it leaves, and is not asked twice.
    auto fifth = table->admit(evictor(4));
    REQUIRE(fifth);
    CHECK(evicted == std::vector<int>{1, 2});
    older.reset();
    newer.reset();
    CHECK(table->open() == 3);
}

TEST_CASE("a full table of the homeserver and requests being served refuses a new connection") {
    auto table = ConnectionTable::create(2);
    int evictions = 0;
    auto homeserver = table->admit([&] { ++evictions; });
    homeserver->markTrusted();
    auto busy = table->admit([&] { ++evictions; });
    busy->setWaiting(false);  // its request is being served
    CHECK_FALSE(table->admit([&] { ++evictions; }));
    CHECK(evictions == 0);
    // Once it waits for its next request again, a newcomer may take its place.
    busy->setWaiting(true);
    CHECK(table->admit([&] { ++evictions; }));
    CHECK(evictions == 1);
}

TEST_CASE("a connection leaving the table frees its slot") {
    auto table = ConnectionTable::create(1);
    auto first = table->admit([] {});
    first->setWaiting(false);
    CHECK_FALSE(table->admit([] {}));
    first.reset();
    CHECK(table->open() == 0);
    CHECK(table->admit([] {}));
}
