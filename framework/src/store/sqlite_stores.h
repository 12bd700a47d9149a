// The SQLite backend of the bridge kit's stores (mxbridge/store.h): links, ghosts, logins and
// event mappings, in tables from migrations/003_stores.sql (logins keyed by their id since
// 005_login_ids.sql). Writes go through the journal's writer: inside a hook they are staged
// and commit with the event's done mark (so they are not visible, even to the hook, before
// that); outside one they are committed before the call returns. Reads use one read
// connection of their own and see committed state.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>

#include "journal/journal.h"
#include "mxbridge/store.h"
#include "store/database.h"
#include "store/login_store.h"

namespace mxbridge::detail {

// A store call that cannot be done as asked: a login secret without database.secret_key, a
// stored secret that does not decrypt with the configured key, an empty id.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SqliteStores {
public:
    // `secretKey` is database.secret_key (may be empty: logins then hold no secrets).
    SqliteStores(const Database& database, Journal& journal, const Secret<std::string>& secretKey);
    ~SqliteStores();
    SqliteStores(const SqliteStores&) = delete;
    SqliteStores& operator=(const SqliteStores&) = delete;

    LinkStore& links();
    UserStore& users();
    // Every login by its key (UserStore sees only each user's id "" login per network).
    LoginStore& logins();
    EventMappingStore& eventMappings();

    // Forgets event mappings older than `maxAge` (edits of older messages then go unmapped).
    // Not yet scheduled by the runtime; a timer and a config key can call it later.
    void pruneEventMappings(std::chrono::seconds maxAge);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mxbridge::detail
