// PortalWaitStore in the bridge's SQLite file (migrations/004_portal_wait.sql), written
// through the journal's writer like the other stores.
#pragma once

#include <memory>
#include <mutex>

#include "bridge/portal_wait_store.h"
#include "journal/journal.h"
#include "store/database.h"

namespace mxbridge::detail {

class SqlitePortalWaitStore final : public PortalWaitStore {
public:
    SqlitePortalWaitStore(const Database& database, Journal& journal);

    void hold(const HeldRemoteEvent& event) override;
    bool release(uint64_t seq, const std::function<bool()>& apply) override;
    std::vector<HeldRemoteEvent> heldEvents() override;
    void creationStarted(const PendingPortalCreation& creation) override;
    void creationEnded(const RemoteRoomId& remote) override;
    std::vector<PendingPortalCreation> creations() override;

private:
    Journal& journal_;
    std::mutex readMutex_;  // one SQLite connection is not for concurrent use
    std::unique_ptr<SQLite::Database> reader_;
};

}  // namespace mxbridge::detail
