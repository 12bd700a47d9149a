#include "store/sqlite_stores.h"

#include <mutex>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "journal/hook_stage.h"
#include "store/secret_box.h"

namespace mxbridge::detail {

namespace {

using nlohmann::json;

int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Options and data are bridge-supplied: invalid UTF-8 is replaced rather than thrown later
// on the writer thread, where a throwing write would stall the journal.
std::string dumpObject(const json& value, const char* what) {
    if (!value.is_object() && !value.is_null())
        throw StoreError(std::string(what) + " must be a JSON object");
    return value.is_null() ? "{}" : value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parseObject(const std::string& text) {
    json v = json::parse(text, nullptr, false);
    return v.is_object() ? v : json::object();
}

void requireId(const std::string& id, const char* what) {
    if (id.empty()) throw StoreError(std::string("empty ") + what);
}

// What a sealed secret is bound to: its row. A user's only login on a network (id "") keeps
// the context secrets were sealed under before logins had ids, so they still open.
std::string secretContext(const UserId& user, const std::string& network, const std::string& loginId) {
    std::string context = "mxbridge login\n" + user.str() + "\n" + network;
    if (!loginId.empty()) context += "\n" + loginId;
    return context;
}

// One read connection for all three stores; SQLite connections are not for concurrent use.
// Each query runs in its own implicit transaction, so it sees everything committed so far.
class Reader {
public:
    explicit Reader(const Database& database) : db_(database.connect()) {}
    template <typename F>
    auto with(F&& f) {
        std::lock_guard lock(mutex_);
        return f(*db_);
    }

private:
    std::mutex mutex_;
    std::unique_ptr<SQLite::Database> db_;
};

// Outside a hook the caller waits, so a read right after a write sees it.
void write(Journal& journal, std::function<void(SQLite::Database&)> apply) {
    stageOrRun(journal, StagedOp{std::move(apply), nullptr}, true);
}

class SqliteLinkStore final : public LinkStore {
public:
    SqliteLinkStore(Journal& journal, Reader& reader) : journal_(journal), reader_(reader) {}

    void link(const Link& link) override {
        requireId(link.room.str(), "room id");
        requireId(link.remote.str(), "remote room id");
        std::string options = dumpObject(link.options, "link options");
        write(journal_, [room = link.room.str(), remote = link.remote.str(), options,
                         now = nowMs()](SQLite::Database& db) {
            SQLite::Statement q(db,
                "INSERT INTO room_link(room_id, remote_room, options, created_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(room_id, remote_room) DO UPDATE SET options = excluded.options");
            q.bind(1, room);
            q.bind(2, remote);
            q.bind(3, options);
            q.bind(4, now);
            q.exec();
        });
    }

    void unlink(const RoomId& room, const RemoteRoomId& remote) override {
        write(journal_, [room = room.str(), remote = remote.str()](SQLite::Database& db) {
            SQLite::Statement q(db, "DELETE FROM room_link WHERE room_id = ? AND remote_room = ?");
            q.bind(1, room);
            q.bind(2, remote);
            q.exec();
        });
    }

    std::vector<Link> forRoom(const RoomId& room) override {
        return query("WHERE room_id = ? ORDER BY created_ms, remote_room", room.str());
    }
    std::vector<Link> forRemote(const RemoteRoomId& remote) override {
        return query("WHERE remote_room = ? ORDER BY created_ms, room_id", remote.str());
    }
    std::vector<Link> all() override { return query("ORDER BY created_ms, room_id, remote_room", {}); }

private:
    std::vector<Link> query(const std::string& tail, const std::optional<std::string>& arg) {
        return reader_.with([&](SQLite::Database& db) {
            SQLite::Statement q(db, "SELECT room_id, remote_room, options FROM room_link " + tail);
            if (arg) q.bind(1, *arg);
            std::vector<Link> out;
            while (q.executeStep()) {
                out.push_back(Link{RoomId(q.getColumn(0).getString()),
                                   RemoteRoomId(q.getColumn(1).getString()),
                                   parseObject(q.getColumn(2).getString())});
            }
            return out;
        });
    }

    Journal& journal_;
    Reader& reader_;
};

class SqliteUserStore final : public UserStore, public LoginStore {
public:
    SqliteUserStore(Journal& journal, Reader& reader, SecretBox box)
        : journal_(journal), reader_(reader), box_(std::move(box)) {}

    void setGhost(const UserId& ghost, const RemoteUserId& remote) override {
        requireId(ghost.str(), "ghost user id");
        requireId(remote.str(), "remote user id");
        write(journal_, [ghost = ghost.str(), remote = remote.str()](SQLite::Database& db) {
            // One to one: the remote user moves to this ghost (the UNIQUE index must never
            // fail on the writer thread).
            SQLite::Statement drop(db, "DELETE FROM ghost WHERE remote_user = ? AND user_id <> ?");
            drop.bind(1, remote);
            drop.bind(2, ghost);
            drop.exec();
            SQLite::Statement q(db,
                "INSERT INTO ghost(user_id, remote_user) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET remote_user = excluded.remote_user");
            q.bind(1, ghost);
            q.bind(2, remote);
            q.exec();
        });
    }

    std::optional<RemoteUserId> remoteForGhost(const UserId& ghost) override {
        auto v = one("SELECT remote_user FROM ghost WHERE user_id = ?", ghost.str());
        return v ? std::optional(RemoteUserId(*v)) : std::nullopt;
    }
    std::optional<UserId> ghostForRemote(const RemoteUserId& remote) override {
        auto v = one("SELECT user_id FROM ghost WHERE remote_user = ?", remote.str());
        return v ? std::optional(UserId(*v)) : std::nullopt;
    }

    void saveLogin(const Login& login) override { save(login); }

    // The public UserStore sees a user's only login on a network: the one with id "".
    std::optional<Login> login(const UserId& user, const std::string& network) override {
        return find(LoginKey{user, network, ""});
    }
    void removeLogin(const UserId& user, const std::string& network) override {
        remove(LoginKey{user, network, ""});
    }
    std::vector<Login> logins(const std::string& network) override {
        return loginRows("WHERE network = ? ORDER BY user_id, login_id", {network});
    }

    // --- LoginStore ---
    void save(const Login& login) override {
        requireId(login.user.str(), "user id");
        requireId(login.network, "network");
        std::optional<std::string> sealed;
        if (!login.secret.empty()) {
            try {
                sealed = box_.seal(login.secret.reveal(), secretContext(login.user, login.network, login.id));
            } catch (const std::runtime_error& e) {
                throw StoreError(e.what());
            }
        }
        std::string data = dumpObject(login.data, "login data");
        write(journal_, [user = login.user.str(), network = login.network, loginId = login.id,
                         remoteName = login.remoteName, sealed = std::move(sealed), data,
                         now = nowMs()](SQLite::Database& db) {
            SQLite::Statement q(db,
                "INSERT INTO user_login(user_id, network, login_id, remote_name, secret, data, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id, network, login_id) DO UPDATE SET "
                "remote_name = excluded.remote_name, secret = excluded.secret, "
                "data = excluded.data, updated_ms = excluded.updated_ms");
            q.bind(1, user);
            q.bind(2, network);
            q.bind(3, loginId);
            q.bind(4, remoteName);
            if (sealed) q.bind(5, sealed->data(), static_cast<int>(sealed->size()));
            else q.bind(5);
            q.bind(6, data);
            q.bind(7, now);
            q.exec();
        });
    }

    std::optional<Login> find(const LoginKey& key) override {
        auto rows = loginRows("WHERE user_id = ? AND network = ? AND login_id = ?",
                              {key.owner.str(), key.network, key.id});
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    }

    void remove(const LoginKey& key) override {
        write(journal_, [user = key.owner.str(), network = key.network, loginId = key.id](SQLite::Database& db) {
            SQLite::Statement q(db, "DELETE FROM user_login WHERE user_id = ? AND network = ? AND login_id = ?");
            q.bind(1, user);
            q.bind(2, network);
            q.bind(3, loginId);
            q.exec();
        });
    }

    std::vector<Login> ofOwner(const UserId& owner) override {
        return loginRows("WHERE user_id = ? ORDER BY network, login_id", {owner.str()});
    }
    std::vector<Login> all() override { return loginRows("ORDER BY user_id, network, login_id", {}); }

private:
    std::optional<std::string> one(const char* sql, const std::string& arg) {
        return reader_.with([&](SQLite::Database& db) -> std::optional<std::string> {
            SQLite::Statement q(db, sql);
            q.bind(1, arg);
            if (!q.executeStep()) return std::nullopt;
            return q.getColumn(0).getString();
        });
    }

    std::vector<Login> loginRows(const std::string& where, const std::vector<std::string>& args) {
        struct Row {
            Login login;
            std::optional<std::string> sealed;
        };
        auto rows = reader_.with([&](SQLite::Database& db) {
            SQLite::Statement q(db,
                "SELECT user_id, network, login_id, remote_name, secret, data FROM user_login " + where);
            for (size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
            std::vector<Row> out;
            while (q.executeStep()) {
                Row r;
                r.login.user = UserId(q.getColumn(0).getString());
                r.login.network = q.getColumn(1).getString();
                r.login.id = q.getColumn(2).getString();
                r.login.remoteName = q.getColumn(3).getString();
                if (!q.getColumn(4).isNull()) {
                    r.sealed = std::string(static_cast<const char*>(q.getColumn(4).getBlob()),
                                           static_cast<size_t>(q.getColumn(4).getBytes()));
                }
                r.login.data = parseObject(q.getColumn(5).getString());
                out.push_back(std::move(r));
            }
            return out;
        });
        // Decrypt outside the read lock.
        std::vector<Login> out;
        for (auto& r : rows) {
            if (r.sealed) {
                auto plain = box_.open(*r.sealed, secretContext(r.login.user, r.login.network, r.login.id));
                if (!plain) {
                    throw StoreError("login of " + r.login.user.str() + " on " + r.login.network +
                                     (r.login.id.empty() ? "" : " (" + r.login.id + ")") + ": " +
                                     plain.error().message);
                }
                r.login.secret = Secret<std::string>(std::move(*plain));
            }
            out.push_back(std::move(r.login));
        }
        return out;
    }

    Journal& journal_;
    Reader& reader_;
    SecretBox box_;
};

class SqliteEventMappingStore final : public EventMappingStore {
public:
    SqliteEventMappingStore(Journal& journal, Reader& reader) : journal_(journal), reader_(reader) {}

    void map(const RoomId& room, const EventId& event, const RemoteRoomId& remoteRoom,
             const RemoteMessageId& remote) override {
        requireId(event.str(), "event id");
        requireId(remote.str(), "remote message id");
        write(journal_, [room = room.str(), event = event.str(), remoteRoom = remoteRoom.str(),
                         remote = remote.str(), now = nowMs()](SQLite::Database& db) {
            SQLite::Statement q(db,
                "INSERT OR IGNORE INTO event_mapping(event_id, room_id, remote_room, remote_id, "
                "created_ms) VALUES (?, ?, ?, ?, ?)");
            q.bind(1, event);
            q.bind(2, room);
            q.bind(3, remoteRoom);
            q.bind(4, remote);
            q.bind(5, now);
            q.exec();
        });
    }

    // With several remote messages for one event, the first mapped is "the" one.
    std::optional<RemoteMessageId> remoteFor(const EventId& event) override {
        auto v = first("SELECT remote_id FROM event_mapping WHERE event_id = ? ORDER BY id LIMIT 1",
                       {event.str()});
        return v ? std::optional(RemoteMessageId(*v)) : std::nullopt;
    }
    std::optional<EventId> eventFor(const RemoteRoomId& remoteRoom,
                                    const RemoteMessageId& remote) override {
        auto v = first("SELECT event_id FROM event_mapping WHERE remote_room = ? AND remote_id = ? "
                       "ORDER BY id LIMIT 1",
                       {remoteRoom.str(), remote.str()});
        return v ? std::optional(EventId(*v)) : std::nullopt;
    }
    std::optional<RoomId> roomForEvent(const EventId& event) override {
        auto v = first("SELECT room_id FROM event_mapping WHERE event_id = ? ORDER BY id LIMIT 1",
                       {event.str()});
        return v ? std::optional(RoomId(*v)) : std::nullopt;
    }

    void prune(int64_t olderThanMs) {
        write(journal_, [olderThanMs](SQLite::Database& db) {
            SQLite::Statement q(db, "DELETE FROM event_mapping WHERE created_ms < ?");
            q.bind(1, olderThanMs);
            q.exec();
        });
    }

private:
    std::optional<std::string> first(const char* sql, const std::vector<std::string>& args) {
        return reader_.with([&](SQLite::Database& db) -> std::optional<std::string> {
            SQLite::Statement q(db, sql);
            for (size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
            if (!q.executeStep()) return std::nullopt;
            return q.getColumn(0).getString();
        });
    }

    Journal& journal_;
    Reader& reader_;
};

}  // namespace

struct SqliteStores::Impl {
    Impl(const Database& database, Journal& journal, const Secret<std::string>& key)
        : reader(database),
          links(journal, reader),
          users(journal, reader, SecretBox(key)),
          events(journal, reader) {}
    Reader reader;
    SqliteLinkStore links;
    SqliteUserStore users;
    SqliteEventMappingStore events;
};

SqliteStores::SqliteStores(const Database& database, Journal& journal,
                           const Secret<std::string>& secretKey)
    : impl_(std::make_unique<Impl>(database, journal, secretKey)) {}

SqliteStores::~SqliteStores() = default;

LinkStore& SqliteStores::links() { return impl_->links; }
UserStore& SqliteStores::users() { return impl_->users; }
LoginStore& SqliteStores::logins() { return impl_->users; }
EventMappingStore& SqliteStores::eventMappings() { return impl_->events; }

void SqliteStores::pruneEventMappings(std::chrono::seconds maxAge) {
    impl_->events.prune(nowMs() - std::chrono::duration_cast<std::chrono::milliseconds>(maxAge).count());
}

}  // namespace mxbridge::detail
