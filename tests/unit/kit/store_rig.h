// A database and a running journal on a temporary file, as the runtime wires them, with the
// SQLite stores on top; and a way to play "a hook is running on this thread".
#pragma once

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "journal/hook_stage.h"
#include "journal/journal.h"
#include "store/database.h"
#include "store/sqlite_stores.h"
#include "temp_dir.h"

namespace mxbridge::detail::testing {

inline const Secret<std::string> kTestKey{std::string("a-test-key-that-is-long-enough-0123456789")};

class StoreRig {
public:
    explicit StoreRig(Secret<std::string> key = kTestKey) : path_((dir_ / "bridge.db").string()) {
        database_ = std::make_unique<Database>(path_, "probe", Durability::ProcessCrash);
        journal_ = std::make_unique<Journal>(*database_, JournalOptions{}, metrics_);
        (void)journal_->recover();
        journal_->start([](std::vector<DispatchItem>&&) {}, [] { return size_t{0}; });
        stores_ = std::make_unique<SqliteStores>(*database_, *journal_, key);
    }
    ~StoreRig() {
        stores_.reset();
        journal_->stop();
    }

    // Another set of stores on the same file, e.g. with another key.
    std::unique_ptr<SqliteStores> storesWithKey(const Secret<std::string>& key) {
        return std::make_unique<SqliteStores>(*database_, *journal_, key);
    }

    SqliteStores& stores() { return *stores_; }
    Journal& journal() { return *journal_; }
    const std::string& path() const { return path_; }

private:
    test::TempDir dir_{"mxbridge-kit"};
    std::string path_;
    Metrics metrics_;
    std::unique_ptr<Database> database_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<SqliteStores> stores_;
};

// While alive, this thread runs "a hook": store writes are staged into ops instead of
// committed. commit() hands them to the journal with the done mark of (queueKey, pos), as
// the dispatcher does, and waits until that commit is durable.
class FakeHook {
public:
    explicit FakeHook(Journal& journal) : journal_(journal) {
        stage_.kv = &kv_;
        stage_.ops = &ops_;
        currentHookStage() = &stage_;
    }
    ~FakeHook() { leave(); }
    void leave() {
        if (currentHookStage() == &stage_) currentHookStage() = nullptr;
    }
    size_t staged() const { return ops_.size(); }
    void commit(const std::string& queueKey, uint64_t pos) {
        leave();
        auto done = std::make_shared<std::promise<void>>();
        std::future<void> committed = done->get_future();
        ops_.push_back(StagedOp{[](SQLite::Database&) {}, [done] { done->set_value(); }});
        std::vector<Completion> completions;
        completions.push_back(Completion{queueKey, pos, 0, {}, std::move(ops_)});
        journal_.complete(std::move(completions));
        committed.wait();
    }

private:
    Journal& journal_;
    HookStage stage_;
    std::vector<KvWrite> kv_;
    std::vector<StagedOp> ops_;
};

}  // namespace mxbridge::detail::testing
