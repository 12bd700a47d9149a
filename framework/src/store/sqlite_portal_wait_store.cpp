#include "store/sqlite_portal_wait_store.h"

#include <SQLiteCpp/Statement.h>

#include "journal/hook_stage.h"

namespace mxbridge::detail {
namespace {

using nlohmann::json;

// Bridge text that is not UTF-8 is replaced here rather than thrown on the writer thread.
std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// Straight to the writer, in call order, without joining a running hook's commit: see hold().
void write(Journal& journal, std::function<void(SQLite::Database&)> apply) {
    std::vector<StagedOp> ops;
    ops.push_back(StagedOp{std::move(apply), nullptr});
    journal.runOps(std::move(ops), false);
}

StagedOp removal(uint64_t seq) {
    return StagedOp{[seq](SQLite::Database& db) {
                        SQLite::Statement q(db, "DELETE FROM portal_wait_event WHERE seq = ?");
                        q.bind(1, static_cast<int64_t>(seq));
                        q.exec();
                    },
                    nullptr};
}

}  // namespace

SqlitePortalWaitStore::SqlitePortalWaitStore(const Database& database, Journal& journal)
    : journal_(journal), reader_(database.connect()) {}

void SqlitePortalWaitStore::hold(const HeldRemoteEvent& event) {
    write(journal_, [seq = event.seq, remote = event.remote.str(), text = dump(event.event)](SQLite::Database& db) {
        SQLite::Statement q(db, "INSERT OR REPLACE INTO portal_wait_event(seq, remote_room, event) VALUES (?, ?, ?)");
        q.bind(1, static_cast<int64_t>(seq));
        q.bind(2, remote);
        q.bind(3, text);
        q.exec();
    });
}

bool SqlitePortalWaitStore::release(uint64_t seq, const std::function<bool()>& apply) {
    if (HookStage* hook = currentHookStage(); hook && hook->ops) {
        bool released = apply();
        if (released) hook->ops->push_back(removal(seq));
        return released;
    }
    // Not in a hook: stage what `apply` writes, as a hook would, and commit it with the removal.
    std::vector<StagedOp> ops;
    HookStage stage{.kv = nullptr, .ops = &ops};
    currentHookStage() = &stage;
    bool released = false;
    try {
        released = apply();
    } catch (...) {
        currentHookStage() = nullptr;
        journal_.runOps(std::move(ops), false);
        throw;
    }
    currentHookStage() = nullptr;
    if (released) ops.push_back(removal(seq));
    journal_.runOps(std::move(ops), false);
    return released;
}

std::vector<HeldRemoteEvent> SqlitePortalWaitStore::heldEvents() {
    std::lock_guard lock(readMutex_);
    SQLite::Statement q(*reader_, "SELECT seq, remote_room, event FROM portal_wait_event ORDER BY seq");
    std::vector<HeldRemoteEvent> out;
    while (q.executeStep()) {
        out.push_back(HeldRemoteEvent{
            .seq = static_cast<uint64_t>(q.getColumn(0).getInt64()),
            .remote = RemoteRoomId(q.getColumn(1).getString()),
            .event = json::parse(q.getColumn(2).getString(), nullptr, false),
        });
    }
    return out;
}

void SqlitePortalWaitStore::creationStarted(const PendingPortalCreation& creation) {
    write(journal_, [remote = creation.remote.str(), creator = creation.creator.str(),
                     text = dump(creation.request)](SQLite::Database& db) {
        SQLite::Statement q(db, "INSERT OR REPLACE INTO portal_creation(remote_room, creator, request) VALUES (?, ?, ?)");
        q.bind(1, remote);
        q.bind(2, creator);
        q.bind(3, text);
        q.exec();
    });
}

void SqlitePortalWaitStore::creationEnded(const RemoteRoomId& remote) {
    write(journal_, [remote = remote.str()](SQLite::Database& db) {
        SQLite::Statement q(db, "DELETE FROM portal_creation WHERE remote_room = ?");
        q.bind(1, remote);
        q.exec();
    });
}

std::vector<PendingPortalCreation> SqlitePortalWaitStore::creations() {
    std::lock_guard lock(readMutex_);
    SQLite::Statement q(*reader_, "SELECT remote_room, creator, request FROM portal_creation ORDER BY remote_room");
    std::vector<PendingPortalCreation> out;
    while (q.executeStep()) {
        out.push_back(PendingPortalCreation{
            .remote = RemoteRoomId(q.getColumn(0).getString()),
            .creator = UserId(q.getColumn(1).getString()),
            .request = json::parse(q.getColumn(2).getString(), nullptr, false),
        });
    }
    return out;
}

}  // namespace mxbridge::detail
