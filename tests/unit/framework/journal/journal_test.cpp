// Journal: acknowledged only once stored, retries recognised, events deduplicated, and what
// was acknowledged but not handled replayed after a stop; kv writes land with the done mark.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "journal_rig.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace mxbridge::detail::testing;
using mxbridge::test::TempDir;

TEST_CASE("a transaction is acknowledged as Accepted only once it is committed") {
    TempDir dir;
    JournalRig rig(dir / "j.db");
    auto ack = rig.submit("t1", txnBody({event("$a", "!r1"), event("$b", "!r2")}));
    REQUIRE(ack->wait() == SubmitOutcome::Accepted);
    CHECK(ack->rowsAtAck == 1);
    REQUIRE(rig.waitDispatched(2));
    CHECK(rig.dispatchedIds() == std::vector<std::string>{"$a", "$b"});
    auto items = rig.dispatched();
    CHECK(items[0].queueKey == "!r1");
    CHECK(items[1].queueKey == "!r2");
    CHECK(items[0].txnSeq == items[1].txnSeq);
    CHECK(items[0].pos < items[1].pos);
    CHECK_FALSE(items[0].event.replayed());
    CHECK(rig.journal().committedTransactions() == 1);
}

TEST_CASE("a repeated txnId with the same body is acked as Duplicate and not delivered twice") {
    TempDir dir;
    JournalRig rig(dir / "j.db");
    std::string body = txnBody({event("$a", "!r")});
    CHECK(rig.submitAndWait("t1", body) == SubmitOutcome::Accepted);
    CHECK(rig.submitAndWait("t1", body) == SubmitOutcome::Duplicate);
    // Both in one group commit: the second is still recognised.
    auto a = rig.submit("t2", txnBody({event("$b", "!r")}));
    auto b = rig.submit("t2", txnBody({event("$b", "!r")}));
    CHECK(a->wait() == SubmitOutcome::Accepted);
    CHECK(b->wait() == SubmitOutcome::Duplicate);
    REQUIRE(rig.waitDispatched(2));
    std::this_thread::sleep_for(20ms);  // a wrongly dispatched retry would show up by now
    CHECK(rig.dispatchedIds() == std::vector<std::string>{"$a", "$b"});
}

TEST_CASE("a transaction with no events is acknowledged and fails nothing committed with it") {
    // Its item hash blob is empty; bound as NULL it broke the NOT NULL column and with it
    // every transaction in the same group commit, again at each homeserver retry.
    TempDir dir;
    JournalRig rig(dir / "j.db");
    auto empty = rig.submit("e1", R"({"events":[]})");
    auto other = rig.submit("t1", txnBody({event("$a", "!r")}));
    CHECK(empty->wait() == SubmitOutcome::Accepted);
    CHECK(other->wait() == SubmitOutcome::Accepted);
    CHECK(rig.submitAndWait("e1", R"({"events":[]})") == SubmitOutcome::Duplicate);
    REQUIRE(rig.waitDispatched(1));
    CHECK(rig.dispatchedIds() == std::vector<std::string>{"$a"});
}

TEST_CASE("the same txnId with a different body is a new transaction and is dispatched") {
    // Synapse restarts txn ids at 1 after losing its state; only (txnId, body) identifies a retry.
    TempDir dir;
    JournalRig rig(dir / "j.db");
    CHECK(rig.submitAndWait("1", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
    CHECK(rig.submitAndWait("1", txnBody({event("$b", "!r")})) == SubmitOutcome::Accepted);
    REQUIRE(rig.waitDispatched(2));
    CHECK(rig.dispatchedIds() == std::vector<std::string>{"$a", "$b"});
}

TEST_CASE("an event already received in another transaction is not dispatched again") {
    TempDir dir;
    JournalRig rig(dir / "j.db");
    CHECK(rig.submitAndWait("t1", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
    CHECK(rig.submitAndWait("t2", txnBody({event("$a", "!r"), event("$b", "!r"), event("$b", "!r")})) ==
          SubmitOutcome::Accepted);
    // A transaction made only of known events is accepted and hands out nothing.
    CHECK(rig.submitAndWait("t3", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
    REQUIRE(rig.waitDispatched(2));
    std::this_thread::sleep_for(20ms);
    CHECK(rig.dispatchedIds() == std::vector<std::string>{"$a", "$b"});
    CHECK(rig.metrics().counter("mxbridge_events_duplicate_total", "").value() == 3);
}

TEST_CASE("retries and duplicate events are still recognised after a restart") {
    TempDir dir;
    std::string body = txnBody({event("$a", "!r")});
    {
        JournalRig rig(dir / "j.db");
        CHECK(rig.submitAndWait("t1", body) == SubmitOutcome::Accepted);
    }
    JournalRig rig(dir / "j.db");
    CHECK(rig.submitAndWait("t1", body) == SubmitOutcome::Duplicate);
    CHECK(rig.submitAndWait("t9", txnBody({event("$a", "!r"), event("$new", "!r")})) == SubmitOutcome::Accepted);
    REQUIRE(rig.waitDispatched(1));
    std::this_thread::sleep_for(20ms);
    // $a was never completed, so it is replayed from the journal; it is not dispatched anew.
    CHECK(rig.dispatchedIds() == std::vector<std::string>{"$new"});
    REQUIRE(rig.replayed().size() == 1);
    CHECK(rig.replayed()[0].event.eventId().str() == "$a");
}

TEST_CASE("recover() replays exactly the items whose completion was not committed, in order") {
    TempDir dir;
    std::vector<DispatchItem> items;
    std::set<std::string> completed = {"$a1", "$b1", "$b2", "$c1"};
    {
        JournalRig rig(dir / "j.db");
        CHECK(rig.submitAndWait("t1", txnBody({event("$a1", "!a"), event("$b1", "!b"), event("$a2", "!a")})) ==
              SubmitOutcome::Accepted);
        CHECK(rig.submitAndWait("t2", txnBody({event("$b2", "!b"), event("$a3", "!a"), event("$c1", "!c")})) ==
              SubmitOutcome::Accepted);
        CHECK(rig.submitAndWait("t3", txnBody({event("$c2", "!c")})) == SubmitOutcome::Accepted);
        REQUIRE(rig.waitDispatched(7));
        std::vector<Completion> done;
        for (const auto& item : rig.dispatched())
            if (completed.count(item.event.eventId().str())) done.push_back(completionOf(item));
        rig.journal().complete(std::move(done));
        // The stop commits what is queued, as a clean shutdown does; unhandled items stay.
    }
    std::vector<std::string> expected = {"$a2", "$a3", "$c2"};
    {
        JournalRig rig(dir / "j.db");
        std::vector<std::string> replayed;
        for (const auto& item : rig.replayed()) {
            replayed.push_back(item.event.eventId().str());
            CHECK(item.event.replayed());
            CHECK(item.event.rawJson() == event(item.event.eventId().str(), item.queueKey));
        }
        CHECK(replayed == expected);
        // Completing one of them and stopping again leaves the other two.
        for (const auto& item : rig.replayed())
            if (item.event.eventId().str() == "$a2") rig.journal().complete({completionOf(item)});
    }
    JournalRig rig(dir / "j.db");
    std::vector<std::string> replayed;
    for (const auto& item : rig.replayed()) replayed.push_back(item.event.eventId().str());
    CHECK(replayed == std::vector<std::string>{"$a3", "$c2"});
}

TEST_CASE("an event the bridge cannot read is handed out marked unreadable, also when replayed after a restart") {
    TempDir dir;
    std::string unreadable = R"({"type":"m.room.message","event_id":"$bad","room_id":"!a","sender":"@alice:example.org","content":"text"})";
    {
        JournalRig rig(dir / "j.db");
        CHECK(rig.submitAndWait("t1", txnBody({event("$ok", "!a"), unreadable})) == SubmitOutcome::Accepted);
        REQUIRE(rig.waitDispatched(2));
        auto items = rig.dispatched();
        CHECK(items[0].unreadable == "");
        CHECK(items[1].event.eventId().str() == "$bad");
        CHECK(items[1].unreadable == "its content is not an object");
    }
    JournalRig rig(dir / "j.db");
    REQUIRE(rig.replayed().size() == 2);
    CHECK(rig.replayed()[0].unreadable == "");
    CHECK(rig.replayed()[1].unreadable == "its content is not an object");
}

TEST_CASE("a fully handled transaction keeps no body, only what deduplication needs") {
    TempDir dir;
    {
        JournalRig rig(dir / "j.db");
        CHECK(rig.submitAndWait("t1", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
        REQUIRE(rig.waitDispatched(1));
        rig.journal().complete({completionOf(rig.dispatched()[0])});
    }
    CHECK(fileValue(dir / "j.db", "SELECT body IS NULL FROM journal_txn WHERE txn_id = ?", "t1") == "1");
    JournalRig rig(dir / "j.db");
    CHECK(rig.replayed().empty());
}

TEST_CASE("kv writes staged by a handler commit atomically with its done mark") {
    TempDir dir;
    uint64_t pos = 0;
    {
        JournalRig rig(dir / "j.db");
        CHECK(rig.submitAndWait("t1", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
        REQUIRE(rig.waitDispatched(1));
        DispatchItem item = rig.dispatched()[0];
        pos = item.pos;
        rig.journal().complete({completionOf(item, {KvWrite{"count:$a", std::string("1")},
                                                    KvWrite{"gone", std::nullopt}})});
        // Readers see the write before its commit (the next handler of the room must).
        CHECK(rig.journal().kvGet("count:$a") == std::optional<std::string>("1"));
    }
    CHECK(fileValue(dir / "j.db", "SELECT value FROM bridge_kv WHERE key = ?", "count:$a") == "1");
    CHECK(fileValue(dir / "j.db", "SELECT done_pos FROM journal_cursor WHERE queue_key = ?", "!r") ==
          std::to_string(pos));
    JournalRig rig(dir / "j.db");
    CHECK(rig.replayed().empty());
    CHECK(rig.journal().kvGet("count:$a") == std::optional<std::string>("1"));
}

TEST_CASE("kvWriteNow is durable when it returns and an erase removes the key") {
    TempDir dir;
    JournalRig rig(dir / "j.db");
    rig.journal().kvWriteNow({KvWrite{"k", std::string("v1")}});
    CHECK(fileValue(dir / "j.db", "SELECT value FROM bridge_kv WHERE key = ?", "k") == "v1");
    rig.journal().kvWriteNow({KvWrite{"k", std::string("v2")}});
    CHECK(rig.journal().kvGet("k") == std::optional<std::string>("v2"));
    rig.journal().kvWriteNow({KvWrite{"k", std::nullopt}});
    CHECK_FALSE(rig.journal().kvGet("k").has_value());
    CHECK_FALSE(fileValue(dir / "j.db", "SELECT value FROM bridge_kv WHERE key = ?", "k").has_value());
}

TEST_CASE("kvList gives the keys under a prefix in key order, staged writes included, erased ones not") {
    TempDir dir;
    {
        JournalRig rig(dir / "j.db");
        rig.journal().kvWriteNow({KvWrite{"q.002", std::string("b")}, KvWrite{"q.001", std::string("a")},
                                  KvWrite{"q.003", std::string("c")}, KvWrite{"qx", std::string("other")},
                                  KvWrite{"p.001", std::string("before")}});
        rig.journal().kvWriteNow({KvWrite{"q.003", std::nullopt}});
        CHECK(rig.submitAndWait("t1", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
        REQUIRE(rig.waitDispatched(1));
        // Shown to readers at once, before its commit: a list right after sees it.
        rig.journal().complete({completionOf(rig.dispatched()[0], {KvWrite{"q.004", std::string("d")},
                                                                   KvWrite{"q.001", std::nullopt}})});
        using Pairs = std::vector<std::pair<std::string, std::string>>;
        CHECK(rig.journal().kvList("q.") == Pairs{{"q.002", "b"}, {"q.004", "d"}});
    }
    JournalRig rig(dir / "j.db");
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    CHECK(rig.journal().kvList("q.") == Pairs{{"q.002", "b"}, {"q.004", "d"}});
    CHECK(rig.journal().kvList("q") == Pairs{{"q.002", "b"}, {"q.004", "d"}, {"qx", "other"}});
    CHECK(rig.journal().kvList("none").empty());
}

TEST_CASE("with several workers and many rooms each room's items are handled in the order sent") {
    TempDir dir;
    std::mutex mutex;
    std::condition_variable cv;
    std::map<std::string, std::vector<std::string>> handled;
    std::map<std::string, int> inFlight;
    bool overlap = false;
    size_t total = 0;
    auto handler = [&](DispatchItem& item) {
        {
            std::lock_guard lock(mutex);
            if (inFlight[item.queueKey]++ != 0) overlap = true;
        }
        std::this_thread::yield();
        std::lock_guard lock(mutex);
        --inFlight[item.queueKey];
        handled[item.queueKey].push_back(item.event.eventId().str());
        ++total;
        cv.notify_all();
        return HandleResult{};
    };
    JournalRig rig(dir / "j.db", JournalOptions{}, handler, 4);
    std::mt19937 rng(2024);
    std::map<std::string, std::vector<std::string>> sent;
    std::vector<std::shared_ptr<Ack>> acks;
    size_t events = 0;
    for (int t = 0; t < 300; ++t) {
        std::vector<std::string> batch;
        int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) {
            std::string room = "!room" + std::to_string(rng() % 16) + ":x";
            std::string id = "$e" + std::to_string(events++);
            sent[room].push_back(id);
            batch.push_back(event(id, room));
        }
        acks.push_back(rig.submit("t" + std::to_string(t), txnBody(batch)));
    }
    for (auto& a : acks) REQUIRE(a->wait() == SubmitOutcome::Accepted);
    {
        std::unique_lock lock(mutex);
        REQUIRE(waitFor(lock, cv, [&] { return total == events; }, 10000ms));
        CHECK_FALSE(overlap);
        CHECK(handled == sent);
    }
    rig.stop();
    // Every room's cursor ends at its last item: nothing would be replayed.
    JournalRig again(dir / "j.db");
    CHECK(again.replayed().empty());
}

// Dispatcher::work used to report a turn's completions
// (up to 64 items) only after the whole turn, and the journal's kv overlay learns of their
// writes only then, so the second item of a turn reads the value from before the first.
TEST_CASE("a handler reads the kv writes of the items handled before it in its room") {
    TempDir dir;
    std::atomic<Journal*> journal{nullptr};
    auto handler = [&](DispatchItem& item) {
        HandleResult result;
        std::string log = journal.load()->kvGet("log").value_or("");
        result.writes.push_back(KvWrite{"log", log + item.event.eventId().str() + "\n"});
        return result;
    };
    std::string expected;
    {
        JournalRig rig(dir / "j.db", JournalOptions{}, handler, 2);
        journal = &rig.journal();
        std::vector<std::string> events;
        for (int i = 0; i < 20; ++i) {
            events.push_back(event("$" + std::to_string(i), "!r"));
            expected += "$" + std::to_string(i) + "\n";
        }
        CHECK(rig.submitAndWait("t1", txnBody(events)) == SubmitOutcome::Accepted);
    }
    CHECK(fileValue(dir / "j.db", "SELECT value FROM bridge_kv WHERE key = ?", "log") == expected);
}

TEST_CASE("the backlog limit holds acknowledgements until the dispatcher catches up") {
    TempDir dir;
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    auto handler = [&](DispatchItem&) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, 5000ms, [&] { return open; });
        return HandleResult{};
    };
    JournalOptions options;
    options.maxBacklogItems = 3;
    JournalRig rig(dir / "j.db", options, handler, 1);
    CHECK(rig.submitAndWait("t1", txnBody({event("$a", "!r"), event("$b", "!r"), event("$c", "!r")})) ==
          SubmitOutcome::Accepted);
    auto held = rig.submit("t2", txnBody({event("$d", "!r")}));
    CHECK_FALSE(held->wait(100ms).has_value());
    {
        std::lock_guard lock(mutex);
        open = true;
    }
    cv.notify_all();
    CHECK(held->wait(5000ms) == SubmitOutcome::Accepted);
    REQUIRE(rig.waitDispatched(4));
}

TEST_CASE("a held transaction is admitted when the backlog drops after the completions that woke the writer") {
    // The dispatcher reports a turn's completions (journal.complete wakes the writer) and only
    // then lowers its backlog count (Dispatcher::work). A writer woken in between finds the
    // backlog still full, commits the done marks and sleeps; nothing wakes it again, so the
    // held transaction waits for unrelated traffic (the homeserver's retry, after its timeout).
    TempDir dir;
    JournalOptions options;
    options.maxBacklogItems = 1;
    JournalRig rig(dir / "j.db", options);
    CHECK(rig.submitAndWait("t1", txnBody({event("$a", "!r")})) == SubmitOutcome::Accepted);
    REQUIRE(rig.waitDispatched(1));
    rig.fakeBacklog() = 1;  // $a is queued in the dispatcher
    auto held = rig.submit("t2", txnBody({event("$b", "!r")}));
    CHECK_FALSE(held->wait(50ms).has_value());
    rig.journal().complete({completionOf(rig.dispatched()[0])});  // the worker reports $a done...
    std::this_thread::sleep_for(20ms);                            // ...the writer commits it...
    rig.fakeBacklog() = 0;                                        // ...then the count drops
    CHECK(held->wait(1000ms) == SubmitOutcome::Accepted);
}

TEST_CASE("under steady load the write-ahead log is restarted, so its file stays bounded") {
    // SQLite starts its log over only when a commit begins with every frame checkpointed;
    // with transactions arriving back to back that moment never comes, and the log file
    // grew by every body ever received (a disk filling up under a busy homeserver).
    TempDir dir;
    JournalOptions options;
    options.checkpointAfterFrames = 32;
    options.restartAfterFrames = 128;  // 512 KB
    JournalRig rig(dir / "j.db", options, [](DispatchItem&) { return HandleResult{}; });
    const std::string text(400, 'x');
    constexpr int kStreams = 8, kPerStream = 400, kEvents = 20;
    std::vector<std::thread> streams;
    std::atomic<int> accepted{0};
    for (int s = 0; s < kStreams; ++s) {
        streams.emplace_back([&, s] {
            for (int t = 0; t < kPerStream; ++t) {
                std::vector<std::string> events;
                for (int e = 0; e < kEvents; ++e) {
                    events.push_back(event("$s" + std::to_string(s) + "-" + std::to_string(t) + "-" +
                                               std::to_string(e),
                                           "!r" + std::to_string(e % 4), text));
                }
                // Not rig.submit(): its check from a second connection per ack leaves the
                // writer idle long enough for SQLite to restart the log by itself.
                Submission sub;
                sub.txnId = "s" + std::to_string(s) + "-" + std::to_string(t);
                sub.body = std::make_shared<std::string>(txnBody(events));
                ParseOutcome parsed = TransactionParser().parse(*sub.body);
                sub.items = std::move(parsed.items);
                std::promise<SubmitOutcome> outcome;
                sub.onDone = [&outcome](SubmitOutcome o) { outcome.set_value(o); };
                rig.journal().submit(std::move(sub));
                if (outcome.get_future().get() == SubmitOutcome::Accepted) ++accepted;
            }
        });
    }
    for (auto& t : streams) t.join();
    CHECK(accepted == kStreams * kPerStream);
    // ~32 MB of bodies went through; a log never restarted holds all of them (it grew to
    // 30-50 MB here), a restarted one a few times restartAfterFrames.
    auto walBytes = std::filesystem::file_size(dir / "j.db-wal");
    CHECK(walBytes < 16u * 1024 * 1024);
    REQUIRE(rig.waitDispatched(static_cast<size_t>(kStreams * kPerStream * kEvents), 20000ms));
}

TEST_CASE("once transactions stop coming, the database file alone holds them within seconds") {
    // The log is copied back once per generation under load; when the load stops short of
    // that, an idle pass does it, so a backup of the .db file without its -wal is current.
    TempDir dir;
    JournalRig rig(dir / "j.db", {}, [](DispatchItem&) { return HandleResult{}; });
    for (int t = 0; t < 20; ++t) {
        CHECK(rig.submitAndWait("t" + std::to_string(t),
                                txnBody({event("$e" + std::to_string(t), "!r")})) == SubmitOutcome::Accepted);
    }
    auto rowsInFileAlone = [&] {
        std::filesystem::copy_file(dir / "j.db", dir / "copy.db",
                                   std::filesystem::copy_options::overwrite_existing);
        SQLite::Database copy((dir / "copy.db").string(), SQLite::OPEN_READONLY);
        return copy.execAndGet("SELECT COUNT(*) FROM journal_txn").getInt();
    };
    int rows = 0;
    for (int i = 0; i < 60 && rows < 20; ++i) {  // up to 6 s: the checkpointer looks each second
        std::this_thread::sleep_for(100ms);
        rows = rowsInFileAlone();
    }
    CHECK(rows == 20);
}

TEST_CASE("once the database file is gone, a write made outside a hook returns instead of waiting forever") {
    TempDir dir;
    std::future<void> wrote;  // before the rig: a write still waiting is let go by its stop
    JournalRig rig(dir / "j.db");
    rig.journal().kvWriteNow({KvWrite{"k", std::string("v1")}});
    for (const std::string suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir / ("j.db" + suffix));
    wrote = std::async(std::launch::async, [&] { rig.journal().kvWriteNow({KvWrite{"k", std::string("v2")}}); });
    CHECK(wrote.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(rig.journal().kvGet("k") == std::optional<std::string>("v2"));  // still queued, still read
}

TEST_CASE("a bridge stopping while commits fail lets a write made outside a hook return") {
    TempDir dir;
    std::future<void> wrote;  // before the rig: a write still waiting is let go by its stop
    JournalRig rig(dir / "j.db");
    rig.journal().kvWriteNow({KvWrite{"k", std::string("v1")}});
    // Another process holds the database's write lock: every commit fails after the busy wait.
    SQLite::Database outside((dir / "j.db").string(), SQLite::OPEN_READWRITE);
    outside.exec("BEGIN IMMEDIATE");
    wrote = std::async(std::launch::async, [&] { rig.journal().kvWriteNow({KvWrite{"k", std::string("v2")}}); });
    CHECK(wrote.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);  // waits
    rig.journal().stopWaiting();
    CHECK(wrote.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    // A write made now, with commits known to fail, does not wait at all.
    auto now = std::async(std::launch::async, [&] { rig.journal().kvWriteNow({KvWrite{"k", std::string("v3")}}); });
    CHECK(now.wait_for(std::chrono::seconds(2)) == std::future_status::ready);
    outside.exec("ROLLBACK");
}
