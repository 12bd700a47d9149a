-- The bridge kit's stores: links (portals), ghosts, logins and event mappings.
-- Links: a Matrix room and a remote room bridged together. Many-to-many.
CREATE TABLE room_link (
    room_id     TEXT    NOT NULL,
    remote_room TEXT    NOT NULL,
    options     TEXT    NOT NULL DEFAULT '{}',  -- JSON object, bridge-defined
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (room_id, remote_room)
) WITHOUT ROWID;
CREATE INDEX room_link_remote ON room_link(remote_room, room_id);
-- Ghosts: the remote user each ghost stands for, one to one.
CREATE TABLE ghost (
    user_id     TEXT NOT NULL PRIMARY KEY,
    remote_user TEXT NOT NULL UNIQUE
) WITHOUT ROWID;
-- Logins: a Matrix user's credentials on one remote network. `secret` is AES-256-GCM sealed
-- (version byte, 12-byte nonce, ciphertext, 16-byte tag) under database.secret_key; NULL when
-- the login has none. Plaintext secrets are never stored.
CREATE TABLE user_login (
    user_id     TEXT    NOT NULL,
    network     TEXT    NOT NULL,
    remote_name TEXT    NOT NULL,
    secret      BLOB,
    data        TEXT    NOT NULL DEFAULT '{}',  -- JSON object, bridge-defined, not encrypted
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (user_id, network)
) WITHOUT ROWID;
CREATE INDEX user_login_network ON user_login(network);
-- Event mappings: Matrix event <-> remote message, both ways. One Matrix event may become
-- several remote messages (a room linked twice, a long message split), so rows, not a key.
CREATE TABLE event_mapping (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT    NOT NULL,
    room_id     TEXT    NOT NULL,
    remote_room TEXT    NOT NULL,
    remote_id   TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    UNIQUE (event_id, remote_room, remote_id)
);
CREATE INDEX event_mapping_remote ON event_mapping(remote_room, remote_id);
CREATE INDEX event_mapping_created ON event_mapping(created_ms);
