// A journal on a temporary SQLite file, wired to a dispatcher as the runtime wires them, with
// helpers to submit transaction bodies and wait (briefly, with deadlines) for what follows.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "journal/dispatcher.h"
#include "journal/journal.h"
#include "store/database.h"
#include "temp_dir.h"

namespace mxbridge::detail::testing {

using namespace std::chrono_literals;

inline std::string event(const std::string& id, const std::string& room, const std::string& text = "hi") {
    return R"({"type":"m.room.message","event_id":")" + id + R"(","room_id":")" + room +
           R"(","sender":"@alice:example.org","origin_server_ts":1,"content":{"msgtype":"m.text","body":")" +
           text + R"("}})";
}

inline std::string txnBody(const std::vector<std::string>& events) {
    std::string body = R"({"events":[)";
    for (size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
    return body + "]}";
}

// Waits on `cv` for `pred`, at most `timeout`; returns pred's last value.
template <typename Pred>
bool waitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Pred pred,
             std::chrono::milliseconds timeout = 5000ms) {
    return cv.wait_for(lock, timeout, pred);
}

// A submission's outcome, reported on the journal's writer thread.
struct Ack {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<SubmitOutcome> outcome;
    std::optional<int64_t> rowsAtAck;  // journal_txn rows with this txn id, seen from outside

    std::optional<SubmitOutcome> wait(std::chrono::milliseconds timeout = 5000ms) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, timeout, [&] { return outcome.has_value(); });
        return outcome;
    }
};

class JournalRig {
public:
    // handler == nullptr: items are only collected (no dispatcher); complete() by hand.
    // `health`: where the journal reports its failures (its own when null).
    explicit JournalRig(const std::filesystem::path& file, JournalOptions options = {},
                        Dispatcher::Handler handler = nullptr, unsigned workers = 4,
                        BridgeHealth* health = nullptr)
        : path_(file.string()) {
        database_ = std::make_unique<Database>(path_, "probe", Durability::ProcessCrash);
        journal_ = std::make_unique<Journal>(*database_, options, metrics_);
        if (health) journal_->reportTo(*health);
        replayed_ = journal_->recover();
        if (handler) {
            dispatcher_ = std::make_unique<Dispatcher>(
                workers, std::move(handler),
                [this](std::vector<Completion>&& done) { journal_->complete(std::move(done)); },
                metrics_, [this](std::vector<KvWrite>& writes) { journal_->showWrites(writes); });
            dispatcher_->enqueue(std::vector<DispatchItem>(replayed_));
            dispatcher_->start();
        }
        journal_->start(
            [this](std::vector<DispatchItem>&& items) {
                {
                    std::lock_guard lock(mutex_);
                    for (const auto& i : items) dispatched_.push_back(i);
                }
                cv_.notify_all();
                if (dispatcher_) dispatcher_->enqueue(std::move(items));
            },
            [this] { return dispatcher_ ? dispatcher_->backlog() : fakeBacklog_.load(); });
    }

    ~JournalRig() { stop(); }

    // What a clean shutdown does: drain the dispatcher, commit, stop the writer.
    void stop() {
        if (dispatcher_) dispatcher_->stop(2000ms);
        if (journal_) journal_->stop();
    }

    std::shared_ptr<Ack> submit(const std::string& txnId, const std::string& bodyText) {
        auto ack = std::make_shared<Ack>();
        auto body = std::make_shared<std::string>(bodyText);
        TransactionParser parser;
        ParseOutcome parsed = parser.parse(*body);
        REQUIRE(parsed.status == ParseOutcome::Status::Ok);
        Submission s;
        s.txnId = txnId;
        s.body = body;
        s.items = std::move(parsed.items);
        std::string path = path_;
        s.onDone = [ack, txnId, path](SubmitOutcome outcome) {
            // Seen through a separate connection: only committed rows are visible there.
            SQLite::Database outside(path, SQLite::OPEN_READONLY);
            SQLite::Statement q(outside, "SELECT COUNT(*) FROM journal_txn WHERE txn_id = ?");
            q.bind(1, txnId);
            q.executeStep();
            std::lock_guard lock(ack->mutex);
            ack->rowsAtAck = q.getColumn(0).getInt64();
            ack->outcome = outcome;
            ack->cv.notify_all();
        };
        journal_->submit(std::move(s));
        return ack;
    }

    SubmitOutcome submitAndWait(const std::string& txnId, const std::string& body) {
        auto outcome = submit(txnId, body)->wait();
        REQUIRE(outcome.has_value());
        return *outcome;
    }

    // Items the journal handed out since start (copies), in hand-out order.
    std::vector<DispatchItem> dispatched() {
        std::lock_guard lock(mutex_);
        return dispatched_;
    }
    bool waitDispatched(size_t n, std::chrono::milliseconds timeout = 5000ms) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return dispatched_.size() >= n; });
    }
    std::vector<std::string> dispatchedIds() {
        std::vector<std::string> ids;
        for (const auto& d : dispatched()) ids.push_back(d.event.eventId().str());
        return ids;
    }

    Journal& journal() { return *journal_; }
    const std::vector<DispatchItem>& replayed() const { return replayed_; }
    std::atomic<size_t>& fakeBacklog() { return fakeBacklog_; }
    Metrics& metrics() { return metrics_; }

private:
    std::string path_;
    Metrics metrics_;
    std::unique_ptr<Database> database_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::vector<DispatchItem> replayed_;
    std::atomic<size_t> fakeBacklog_{0};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<DispatchItem> dispatched_;
};

inline Completion completionOf(const DispatchItem& item, std::vector<KvWrite> writes = {}) {
    return Completion{item.queueKey, item.pos, item.txnSeq, std::move(writes), {}};
}

// Reads one value straight from the file, as a later process would.
inline std::optional<std::string> fileValue(const std::filesystem::path& file, const std::string& sql,
                                            const std::string& arg) {
    SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, sql);
    q.bind(1, arg);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getString();
}

}  // namespace mxbridge::detail::testing
