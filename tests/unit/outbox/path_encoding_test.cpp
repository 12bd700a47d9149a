// Ids in Client-Server API paths are percent-encoded: hostile room, user, event and alias ids,
// event types, state keys, media ids and file names (with "/", "..", "?", "#", "%", CR/LF,
// NUL, spaces) go through every request an intent makes, and a homeserver on 127.0.0.1
// receives exactly the intended operation, path parameters and query: nothing added, nothing
// cut, nothing redirected. The spec's own path templates decide what each request means.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "journal/journal.h"
#include "matrix/hs_client.h"
#include "matrix/intent_pool.h"
#include "spec_catalog.h"
#include "store/database.h"
#include "temp_dir.h"
#include "test_http_server.h"

using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace mxbridge;
using namespace mxbridge::detail;
using mxbridge::test::SpecCatalog;
using mxbridge::test::StringMap;
using nlohmann::json;

namespace {

const std::string kHostileRoom = "!a:b/../../../_synapse/admin/v1/x?access_token=x#frag\r\nX: 1\0 %2F%"s;
// No ":" before the server name: that would make it no user id at all.
const UserId kHostileGhost("@_bridge_a/../../x?user_id=@admin#z%00\r\n\0 %:example.org"s);
const std::string kHostileEvent = "$e/../..?x=1#y%00\r\n\0 "s;
const std::string kHostileType = "m.room.message/../../x?y#z";
const std::string kHostileStateKey = "..";
const std::string kHostileAlias = "x/../../y?z#w\r\n";
const std::string kHostileMxc = "mxc://hs.test/../../x?y=1#z/%2F\r\n";
const std::string kHostileFileName = "a&user_id=@admin:hs#b?c=d\r\n\0%"s;

// What one request meant: the spec operation its method and path fit, the percent-decoded
// path parameters, and every query parameter (decoded, repeats kept, sorted).
struct Meaning {
    std::string operationId;
    StringMap params;
    std::vector<std::pair<std::string, std::string>> query;
    friend bool operator<(const Meaning& a, const Meaning& b) {
        return std::tie(a.operationId, a.params, a.query) < std::tie(b.operationId, b.params, b.query);
    }
    friend bool operator==(const Meaning& a, const Meaning& b) = default;
};

std::string describe(const Meaning& m) {
    json j{{"operation", m.operationId}, {"params", m.params}, {"query", m.query}};
    return j.dump(-1, ' ', true, json::error_handler_t::replace);
}

Meaning meaningOf(const test::HttpRequest& request) {
    Meaning m;
    const SpecCatalog& spec = SpecCatalog::shared();
    const test::Operation* op = spec.findOperation(request.method, request.path);
    if (!op) {
        m.operationId = "(no operation for " + request.method + " " + request.path + ")";
        return m;
    }
    m.operationId = op->operationId;
    m.params = spec.matchPath(*op, request.path).value_or(StringMap{});
    std::string_view raw(request.target);
    if (size_t q = raw.find('?'); q != std::string_view::npos) {
        raw.remove_prefix(q + 1);
        while (true) {
            size_t amp = raw.find('&');
            std::string_view pair = raw.substr(0, amp);
            size_t eq = pair.find('=');
            m.query.emplace_back(test::percentDecode(pair.substr(0, eq)),
                                 eq == std::string_view::npos ? "" : test::percentDecode(pair.substr(eq + 1)));
            if (amp == std::string_view::npos) break;
            raw.remove_prefix(amp + 1);
        }
    }
    std::sort(m.query.begin(), m.query.end());
    return m;
}

// An outbox and its intents, as the runtime wires them, calling a homeserver stand-in that
// records each request and says yes to all of them.
struct CaptureRig {
    std::mutex mutex;
    std::vector<test::HttpRequest> received;
    test::TestHttpServer server{[this](const test::HttpRequest& request) {
        std::lock_guard lock(mutex);
        received.push_back(request);
        return test::HttpResponse::json(
            200, {{"event_id", "$sent:hs.test"}, {"room_id", "!created:hs.test"},
                  {"content_uri", "mxc://hs.test/uploaded"}, {"users", json::object()}});
    }};
    mxbridge::test::TempDir dir;
    Metrics metrics;
    Database database{(dir / "bridge.db").string(), "test", Durability::ProcessCrash};
    HomeserverClient client{server.url(), Secret<std::string>("as_token"), std::chrono::seconds(5)};
    Journal journal{database, JournalOptions{}, metrics};
    std::unique_ptr<IntentPool> pool;

    CaptureRig() {
        (void)journal.recover();
        journal.start([](std::vector<DispatchItem>&&) {}, [] { return size_t(0); });
        pool = std::make_unique<IntentPool>(database, journal, client, metrics, UserId("@bridgebot:hs.test"));
        pool->start();
    }
    ~CaptureRig() {
        pool->stop();
        journal.stop();
    }

    std::set<Meaning> meanings() {
        std::lock_guard lock(mutex);
        std::set<Meaning> out;
        for (const auto& r : received) out.insert(meaningOf(r));
        return out;
    }
};

// `answered` is called with the result of a call that has one; waits for all of them.
void waitAll(CaptureRig& rig, std::atomic<int>& answered, int expected) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (answered.load() < expected && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    CHECK(answered.load() == expected);
    CHECK(rig.pool->outbox().waitIdle(10s));
}

}  // namespace

TEST_CASE("a hostile id can never change the path or query the homeserver receives") {
    CaptureRig rig;
    IntentImpl& ghost = rig.pool->intent(kHostileGhost);
    const RoomId room(kHostileRoom);
    const EventId event(kHostileEvent);
    const std::string actor = kHostileGhost.str();

    OutgoingMessage message;
    message.body = "hello";
    message.timestampMs = 1234;
    ghost.join(room);
    ghost.sendMessage(room, message);
    ghost.sendReaction(room, event, "👍");
    ghost.redact(room, event, "spam");
    ghost.sendState(room, kHostileType, kHostileStateKey, json{{"x", 1}});
    ghost.setTopic(room, "topic");
    ghost.invite(room, UserId("@bob:hs.test"));
    ghost.kick(room, UserId("@bob:hs.test"), "bye");
    ghost.ban(room, UserId("@bob:hs.test"), "bye");
    ghost.setPowerLevels(room, {{UserId("@bob:hs.test"), 50}});
    ghost.setRoomAlias(kHostileAlias, room);
    ghost.publishInDirectory(room, true);
    ghost.leave(room, "done");
    ghost.setDisplayName("Alice");
    ghost.setAvatarUrl("mxc://hs.test/avatar");
    ghost.setTyping(room, true, 5000ms);
    ghost.markRead(room, event);
    ghost.setPresence("online");
    std::atomic<int> answered{0};
    ghost.createRoom(RoomCreation{}, [&](Result<RoomId>) { ++answered; });
    ghost.uploadMedia("bytes", "text/plain", kHostileFileName, [&](Result<std::string>) { ++answered; });
    ghost.downloadMedia(kHostileMxc, [&](Result<std::string>) { ++answered; });
    waitAll(rig, answered, 3);

    const std::vector<std::pair<std::string, std::string>> asGhost = {{"user_id", actor}};
    auto in = [&](const std::string& operationId, StringMap params,
                  std::vector<std::pair<std::string, std::string>> query) {
        return Meaning{operationId, std::move(params), std::move(query)};
    };
    // The txnIds the outbox chose are its own; everything else is fixed by the calls above.
    std::set<Meaning> seen = rig.meanings();
    std::set<Meaning> withoutTxn;
    for (Meaning m : seen) {
        if (m.params.count("txnId")) m.params["txnId"] = "(txn)";
        withoutTxn.insert(std::move(m));
    }
    const std::string aliasServer = "example.org";
    const std::set<Meaning> intended = {
        in("register", {}, {}),
        in("joinRoom", {{"roomIdOrAlias", kHostileRoom}}, asGhost),
        in("sendMessage", {{"roomId", kHostileRoom}, {"eventType", "m.room.message"}, {"txnId", "(txn)"}},
           {{"ts", "1234"}, {"user_id", actor}}),
        in("sendMessage", {{"roomId", kHostileRoom}, {"eventType", "m.reaction"}, {"txnId", "(txn)"}}, asGhost),
        in("redactEvent", {{"roomId", kHostileRoom}, {"eventId", kHostileEvent}, {"txnId", "(txn)"}}, asGhost),
        in("setRoomStateWithKey", {{"roomId", kHostileRoom}, {"eventType", kHostileType}, {"stateKey", kHostileStateKey}},
           asGhost),
        in("setRoomStateWithKey", {{"roomId", kHostileRoom}, {"eventType", "m.room.topic"}, {"stateKey", ""}}, asGhost),
        in("setRoomStateWithKey", {{"roomId", kHostileRoom}, {"eventType", "m.room.power_levels"}, {"stateKey", ""}},
           asGhost),
        in("getRoomStateWithKey", {{"roomId", kHostileRoom}, {"eventType", "m.room.power_levels"}, {"stateKey", ""}},
           asGhost),
        in("inviteUser", {{"roomId", kHostileRoom}}, asGhost),
        in("kick", {{"roomId", kHostileRoom}}, asGhost),
        in("ban", {{"roomId", kHostileRoom}}, asGhost),
        in("setRoomAlias", {{"roomAlias", "#" + kHostileAlias + ":" + aliasServer}}, asGhost),
        in("setRoomVisibilityOnDirectory", {{"roomId", kHostileRoom}}, asGhost),
        in("leaveRoom", {{"roomId", kHostileRoom}}, asGhost),
        in("setProfileField", {{"userId", actor}, {"keyName", "displayname"}}, asGhost),
        in("setProfileField", {{"userId", actor}, {"keyName", "avatar_url"}}, asGhost),
        in("setTyping", {{"roomId", kHostileRoom}, {"userId", actor}}, asGhost),
        in("postReceipt", {{"roomId", kHostileRoom}, {"receiptType", "m.read"}, {"eventId", kHostileEvent}}, asGhost),
        in("setPresence", {{"userId", actor}}, asGhost),
        in("createRoom", {}, asGhost),
        in("uploadContent", {}, {{"filename", kHostileFileName}, {"user_id", actor}}),
        in("getContentAuthed", {{"serverName", "hs.test"}, {"mediaId", "../../x?y=1#z/%2F\r\n"}}, asGhost),
    };
    for (const Meaning& m : withoutTxn) {
        INFO("received " << describe(m));
        CHECK(intended.count(m) == 1);
    }
    for (const Meaning& m : intended) {
        INFO("intended " << describe(m));
        CHECK(withoutTxn.count(m) == 1);
    }
}

TEST_CASE("percent-encoding keeps unreserved ASCII characters and encodes every other byte") {
    CHECK(urlEncode("AZaz09-._~") == "AZaz09-._~");
    CHECK(urlEncode("!a:b/../?x=1&y#z%") == "%21a%3Ab%2F..%2F%3Fx%3D1%26y%23z%25");
    CHECK(urlEncode("\r\n\0 "s) == "%0D%0A%00%20");
    CHECK(urlEncode("caf\xc3\xa9") == "caf%C3%A9");
    // A whole segment of dots would be removed or climb a level in clients and proxies that
    // normalise paths (RFC 3986 5.2.4), so its dots are encoded.
    CHECK(urlEncode(".") == "%2E");
    CHECK(urlEncode("..") == "%2E%2E");
    CHECK(urlEncode("...") == "...");
}
