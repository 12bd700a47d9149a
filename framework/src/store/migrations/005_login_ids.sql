-- Logins gain their id (LoginKey::id), so a Matrix user may hold several logins on one
-- network (two Slack workspaces). Existing rows are the user's only login there: id ''.
-- SQLite cannot change a primary key in place, hence the copy.
CREATE TABLE user_login_v5 (
    user_id     TEXT    NOT NULL,
    network     TEXT    NOT NULL,
    login_id    TEXT    NOT NULL DEFAULT '',
    remote_name TEXT    NOT NULL,
    secret      BLOB,
    data        TEXT    NOT NULL DEFAULT '{}',
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (user_id, network, login_id)
) WITHOUT ROWID;
INSERT INTO user_login_v5(user_id, network, login_id, remote_name, secret, data, updated_ms)
    SELECT user_id, network, '', remote_name, secret, data, updated_ms FROM user_login;
DROP TABLE user_login;
ALTER TABLE user_login_v5 RENAME TO user_login;
CREATE INDEX user_login_network ON user_login(network);
