-- The transaction journal: what the homeserver sent, kept until every event is handled.
CREATE TABLE journal_txn (
    seq          INTEGER PRIMARY KEY,  -- arrival order; an item's position is seq << 24 | index
    txn_id       TEXT    NOT NULL,
    txn_key      INTEGER NOT NULL,     -- hash of (txn id, body): a retry has the same key
    received_ms  INTEGER NOT NULL,
    body         BLOB,                 -- raw body; NULL once every item is handled
    item_hashes  BLOB    NOT NULL      -- 8 bytes per item: event id hash, 1 = no id, 0 = duplicate
);
-- Per room (or other queue) the position of the last handled item.
CREATE TABLE journal_cursor (
    queue_key TEXT PRIMARY KEY,
    done_pos  INTEGER NOT NULL
) WITHOUT ROWID;
-- The bridge's key/value store; written together with the journal's done marks.
CREATE TABLE bridge_kv (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
