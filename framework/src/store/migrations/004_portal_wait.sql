-- What PortalManager keeps while a portal's room is being created, so a restart loses none
-- of it: the remote events waiting for the room, in queue order, and the creation itself.
CREATE TABLE portal_wait_event (
    seq         INTEGER NOT NULL PRIMARY KEY,  -- PortalManager's queue order
    remote_room TEXT    NOT NULL,
    event       TEXT    NOT NULL               -- JSON, bridge/remote_event_json.h
);
-- A room creation asked for and not yet linked: redone at start-up (the outbox adopts the
-- room an earlier attempt made under the same alias, so the alias does not collide).
CREATE TABLE portal_creation (
    remote_room TEXT    NOT NULL PRIMARY KEY,
    creator     TEXT    NOT NULL,              -- the user id that creates the room
    request     TEXT    NOT NULL               -- JSON RoomCreation
) WITHOUT ROWID;
