-- The outbox: requests to the homeserver not yet answered, in order per queue (a room, or a
-- user's profile). A row is deleted once the homeserver answered it; after a restart the
-- sender resumes from what is left. Sends use the txnId "mxb<created_ms>-<id>", so a request
-- repeated after a crash is deduplicated by the homeserver.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    queue_key       TEXT    NOT NULL,
    actor           TEXT    NOT NULL,  -- the intent's user id (bot or ghost)
    kind            TEXT    NOT NULL,  -- send, redact, state, join, invite, displayname, ...
    payload         TEXT    NOT NULL,  -- JSON, see Outbox
    created_ms      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_queue ON outbox(queue_key, id);
-- What the homeserver knows of each intent's user, so "register first", "join first" and
-- "set the display name only when it changed" survive restarts.
CREATE TABLE intent_state (
    user_id     TEXT PRIMARY KEY,
    registered  INTEGER NOT NULL DEFAULT 0,
    displayname TEXT,
    avatar_url  TEXT
) WITHOUT ROWID;
CREATE TABLE intent_membership (
    user_id    TEXT NOT NULL,
    room_id    TEXT NOT NULL,
    membership TEXT NOT NULL,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;
