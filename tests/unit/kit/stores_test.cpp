// SQLite stores: links, ghosts, logins (several per network, by id) with sealed secrets, event
// mappings, hook staging and migrations 003 and 005, on a real temporary file with a running journal.
#include <doctest/doctest.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/secret_box.h"
#include "store_rig.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace mxbridge::detail::testing;

namespace {

const RoomId kRoomA("!a:hs.test");
const RoomId kRoomB("!b:hs.test");
const RemoteRoomId kChanX("libera/#x");
const RemoteRoomId kChanY("libera/#y");

std::vector<std::string> remotesOf(const std::vector<Link>& links) {
    std::vector<std::string> out;
    for (const auto& l : links) out.push_back(l.remote.str());
    return out;
}
std::vector<std::string> roomsOf(const std::vector<Link>& links) {
    std::vector<std::string> out;
    for (const auto& l : links) out.push_back(l.room.str());
    return out;
}

// Read through a connection of its own, as a later process (or an attacker with the file) would.
std::optional<std::string> rawSecret(const std::string& path, const std::string& user, const std::string& network) {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT secret FROM user_login WHERE user_id = ? AND network = ?");
    q.bind(1, user);
    q.bind(2, network);
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    return std::string(static_cast<const char*>(q.getColumn(0).getBlob()),
                       static_cast<size_t>(q.getColumn(0).getBytes()));
}

// A database file as an older mxbridge left it: only the migrations up to `version` applied.
void makeDatabaseAtVersion(const std::string& path, int version) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE mxbridge_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.exec("INSERT INTO mxbridge_meta VALUES ('owner', 'mxbridge'), ('bridge', 'probe'), "
            "('schema_version', '" + std::to_string(version) + "')");
    for (const auto& m : builtinMigrations())
        if (m.version <= version) db.exec(m.sql);
}

std::string storeErrorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const StoreError& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("links are many-to-many and keep their options") {
    StoreRig rig;
    LinkStore& links = rig.stores().links();
    links.link(Link{kRoomA, kChanX, {{"relay", true}}});
    links.link(Link{kRoomA, kChanY});
    links.link(Link{kRoomB, kChanX});
    CHECK(remotesOf(links.forRoom(kRoomA)) == std::vector<std::string>{"libera/#x", "libera/#y"});
    CHECK(roomsOf(links.forRemote(kChanX)) == std::vector<std::string>{"!a:hs.test", "!b:hs.test"});
    CHECK(links.all().size() == 3);
    CHECK(links.forRoom(kRoomA)[0].options == nlohmann::json{{"relay", true}});
    CHECK(links.forRoom(kRoomA)[1].options == nlohmann::json::object());

    // Linking again updates the options in place.
    links.link(Link{kRoomA, kChanX, {{"relay", false}, {"prefix", "[x] "}}});
    CHECK(links.all().size() == 3);
    CHECK(links.forRoom(kRoomA)[0].options["prefix"] == "[x] ");

    links.unlink(kRoomA, kChanX);
    CHECK(remotesOf(links.forRoom(kRoomA)) == std::vector<std::string>{"libera/#y"});
    CHECK(roomsOf(links.forRemote(kChanX)) == std::vector<std::string>{"!b:hs.test"});
    CHECK_THROWS_AS(links.link(Link{RoomId(), kChanX}), StoreError);
    CHECK_THROWS_AS(links.link(Link{kRoomA, kChanX, nlohmann::json::array()}), StoreError);
}

TEST_CASE("writes made in a hook are invisible until the event's done mark commits them") {
    StoreRig rig;
    FakeHook hook(rig.journal());
    rig.stores().links().link(Link{kRoomA, kChanX});
    rig.stores().users().setGhost(UserId("@irc_alice:hs.test"), RemoteUserId("libera/alice"));
    rig.stores().eventMappings().map(kRoomA, EventId("$e1"), kChanX, RemoteMessageId("m1"));
    CHECK(hook.staged() == 3);
    hook.leave();
    CHECK(rig.stores().links().forRoom(kRoomA).empty());
    CHECK_FALSE(rig.stores().users().remoteForGhost(UserId("@irc_alice:hs.test")));
    CHECK_FALSE(rig.stores().eventMappings().remoteFor(EventId("$e1")));

    hook.commit(kRoomA.str(), 7);
    CHECK(rig.stores().links().forRoom(kRoomA).size() == 1);
    CHECK(rig.stores().users().remoteForGhost(UserId("@irc_alice:hs.test")) == RemoteUserId("libera/alice"));
    CHECK(rig.stores().eventMappings().remoteFor(EventId("$e1")) == RemoteMessageId("m1"));
    // ...in the same commit as the done mark.
    SQLite::Database raw(rig.path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT done_pos FROM journal_cursor WHERE queue_key = ?");
    q.bind(1, kRoomA.str());
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getInt64() == 7);
}

TEST_CASE("ghosts map one to one, both ways") {
    StoreRig rig;
    UserStore& users = rig.stores().users();
    users.setGhost(UserId("@irc_alice:hs.test"), RemoteUserId("libera/alice"));
    CHECK(users.ghostForRemote(RemoteUserId("libera/alice")) == UserId("@irc_alice:hs.test"));
    CHECK(users.remoteForGhost(UserId("@irc_alice:hs.test")) == RemoteUserId("libera/alice"));
    CHECK_FALSE(users.ghostForRemote(RemoteUserId("libera/bob")));
    // The remote user moves to a new ghost: the old mapping goes, and the write never fails.
    users.setGhost(UserId("@irc_alice2:hs.test"), RemoteUserId("libera/alice"));
    CHECK(users.ghostForRemote(RemoteUserId("libera/alice")) == UserId("@irc_alice2:hs.test"));
    CHECK_FALSE(users.remoteForGhost(UserId("@irc_alice:hs.test")));
}

TEST_CASE("logins round-trip, and their secrets are stored sealed, not in plaintext") {
    StoreRig rig;
    UserStore& users = rig.stores().users();
    Login login{UserId("@alice:hs.test"), "libera", "alice",
                Secret<std::string>("hunter2-password"), {{"sasl", "plain"}}};
    users.saveLogin(login);
    users.saveLogin(Login{UserId("@bob:hs.test"), "libera", "bob", Secret<std::string>(), {}});
    users.saveLogin(Login{UserId("@alice:hs.test"), "oftc", "al", Secret<std::string>("other"), {}});

    auto back = users.login(UserId("@alice:hs.test"), "libera");
    REQUIRE(back);
    CHECK(back->remoteName == "alice");
    CHECK(back->secret.reveal() == "hunter2-password");
    CHECK(back->data == nlohmann::json{{"sasl", "plain"}});
    CHECK(users.logins("libera").size() == 2);
    CHECK(users.login(UserId("@bob:hs.test"), "libera")->secret.empty());
    CHECK_FALSE(users.login(UserId("@carol:hs.test"), "libera"));

    auto stored = rawSecret(rig.path(), "@alice:hs.test", "libera");
    REQUIRE(stored);
    CHECK(stored->find("hunter2") == std::string::npos);
    CHECK(stored->size() == 1 + 12 + std::string("hunter2-password").size() + 16);
    CHECK_FALSE(rawSecret(rig.path(), "@bob:hs.test", "libera"));

    // Two seals of one secret differ (fresh nonce each time).
    users.saveLogin(login);
    CHECK(rawSecret(rig.path(), "@alice:hs.test", "libera") != stored);

    users.removeLogin(UserId("@alice:hs.test"), "libera");
    CHECK_FALSE(users.login(UserId("@alice:hs.test"), "libera"));
}

TEST_CASE("a sealed secret read with another key fails clearly, and moved rows do not open") {
    StoreRig rig;
    rig.stores().users().saveLogin(Login{UserId("@alice:hs.test"), "libera", "alice", Secret<std::string>("pw"), {}});
    auto wrong = rig.storesWithKey(Secret<std::string>(std::string(40, 'w')));
    std::string err = storeErrorOf([&] { (void)wrong->users().login(UserId("@alice:hs.test"), "libera"); });
    CHECK(err.find("database.secret_key differs from the key it was stored with") != std::string::npos);
    CHECK(err.find("@alice:hs.test") != std::string::npos);
    CHECK(err.find("pw") == std::string::npos);

    // The secret is bound to its row: copied onto another user's row, it does not decrypt.
    {
        SQLite::Database raw(rig.path(), SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO user_login(user_id, network, remote_name, secret, data, updated_ms) "
                 "SELECT '@mallory:hs.test', network, remote_name, secret, data, updated_ms "
                 "FROM user_login WHERE user_id = '@alice:hs.test'");
    }
    CHECK(storeErrorOf([&] { (void)rig.stores().users().login(UserId("@mallory:hs.test"), "libera"); })
              .find("does not decrypt") != std::string::npos);
}

TEST_CASE("without database.secret_key a login secret is refused, never stored in plaintext") {
    StoreRig rig(Secret<std::string>{});
    UserStore& users = rig.stores().users();
    std::string err = storeErrorOf([&] {
        users.saveLogin(Login{UserId("@alice:hs.test"), "libera", "alice", Secret<std::string>("pw"), {}});
    });
    CHECK(err.find("no encryption key is configured. Set database.secret_key") != std::string::npos);
    CHECK_FALSE(users.login(UserId("@alice:hs.test"), "libera"));
    // A login without a secret needs no key.
    users.saveLogin(Login{UserId("@bob:hs.test"), "libera", "bob", Secret<std::string>(), {}});
    CHECK(users.login(UserId("@bob:hs.test"), "libera"));
}

TEST_CASE("event mappings are found both ways, and pruned by age") {
    StoreRig rig;
    EventMappingStore& events = rig.stores().eventMappings();
    events.map(kRoomA, EventId("$one"), kChanX, RemoteMessageId("101"));
    events.map(kRoomA, EventId("$one"), kChanY, RemoteMessageId("201"));  // room linked twice
    events.map(kRoomA, EventId("$one"), kChanX, RemoteMessageId("101"));  // repeat: ignored
    events.map(kRoomB, EventId("$two"), kChanX, RemoteMessageId("102"));
    CHECK(events.remoteFor(EventId("$one")) == RemoteMessageId("101"));
    CHECK(events.eventFor(kChanY, RemoteMessageId("201")) == EventId("$one"));
    CHECK(events.eventFor(kChanX, RemoteMessageId("102")) == EventId("$two"));
    CHECK_FALSE(events.eventFor(kChanY, RemoteMessageId("102")));  // ids are per remote room
    CHECK(events.roomForEvent(EventId("$two")) == kRoomB);
    CHECK_FALSE(events.remoteFor(EventId("$none")));

    rig.stores().pruneEventMappings(std::chrono::hours(1));
    CHECK(events.remoteFor(EventId("$one")));
    rig.stores().pruneEventMappings(std::chrono::seconds(-1));
    CHECK_FALSE(events.remoteFor(EventId("$one")));
}

TEST_CASE("migration 003 applies to a database made with only the migrations before it") {
    test::TempDir dir("mxbridge-kit");
    std::string path = (dir / "old.db").string();
    {
        makeDatabaseAtVersion(path, 2);
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO bridge_kv(key, value) VALUES ('kept', 'yes')");
    }
    Database migrated(path, "probe", Durability::ProcessCrash);
    CHECK(migrated.schemaVersion() >= 3);
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    for (const char* table : {"room_link", "ghost", "user_login", "event_mapping"}) CHECK(check.tableExists(table));
    CHECK(check.execAndGet("SELECT value FROM bridge_kv WHERE key = 'kept'").getString() == "yes");
}

TEST_CASE("a user's several logins on one network are kept apart, each secret sealed for its own row") {
    StoreRig rig;
    LoginStore& logins = rig.stores().logins();
    const UserId alice("@alice:hs.test");
    logins.save(Login{.user = alice, .network = "slack", .remoteName = "alice@acme",
                      .secret = Secret<std::string>("xoxc-acme"), .data = nlohmann::json::object(), .id = "T0ACME"});
    logins.save(Login{.user = alice, .network = "slack", .remoteName = "alice@home",
                      .secret = Secret<std::string>("xoxc-home"), .data = nlohmann::json::object(), .id = "T0HOME"});
    logins.save(Login{.user = alice, .network = "libera", .remoteName = "alice", .secret = {}, .data = nlohmann::json::object(), .id = {}});
    auto acme = logins.find(LoginKey{alice, "slack", "T0ACME"});
    REQUIRE(acme);
    CHECK(acme->secret.reveal() == "xoxc-acme");
    CHECK(acme->id == "T0ACME");
    CHECK(logins.find(LoginKey{alice, "slack", "T0HOME"})->remoteName == "alice@home");
    CHECK(logins.ofOwner(alice).size() == 3);
    CHECK(logins.all().size() == 3);
    // The public UserStore sees the user's only login per network (id ""), not the others.
    CHECK_FALSE(rig.stores().users().login(alice, "slack"));
    CHECK(rig.stores().users().login(alice, "libera"));
    CHECK(rig.stores().users().logins("slack").size() == 2);

    logins.remove(LoginKey{alice, "slack", "T0ACME"});
    CHECK_FALSE(logins.find(LoginKey{alice, "slack", "T0ACME"}));
    CHECK(logins.find(LoginKey{alice, "slack", "T0HOME"}));

    // Nothing in the file reads as the secret.
    SQLite::Database raw(rig.path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT secret FROM user_login WHERE login_id = 'T0HOME'");
    REQUIRE(q.executeStep());
    std::string sealed(static_cast<const char*>(q.getColumn(0).getBlob()), static_cast<size_t>(q.getColumn(0).getBytes()));
    CHECK(sealed.find("xoxc-home") == std::string::npos);
}

TEST_CASE("migration 005 keeps the logins stored before logins had ids, and their secrets still open") {
    test::TempDir dir("mxbridge-kit");
    std::string path = (dir / "old.db").string();
    {
        makeDatabaseAtVersion(path, 4);
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        // Sealed as mxbridge sealed it before 005: bound to the user and the network.
        std::string sealed = SecretBox(kTestKey).seal("hunter2", "mxbridge login\n@alice:hs.test\nlibera");
        SQLite::Statement q(db, "INSERT INTO user_login(user_id, network, remote_name, secret, data, updated_ms) "
                                "VALUES ('@alice:hs.test', 'libera', 'alice', ?, '{}', 1)");
        q.bind(1, sealed.data(), static_cast<int>(sealed.size()));
        q.exec();
    }
    Database migrated(path, "probe", Durability::ProcessCrash);
    CHECK(migrated.schemaVersion() >= 5);
    Metrics metrics;
    Journal journal(migrated, JournalOptions{}, metrics);
    (void)journal.recover();
    journal.start([](std::vector<DispatchItem>&&) {}, [] { return size_t{0}; });
    {
        SqliteStores stores(migrated, journal, kTestKey);
        auto login = stores.users().login(UserId("@alice:hs.test"), "libera");
        REQUIRE(login);
        CHECK(login->id.empty());
        CHECK(login->secret.reveal() == "hunter2");
        CHECK(stores.logins().find(LoginKey{UserId("@alice:hs.test"), "libera", ""}));
    }
    journal.stop();
}
