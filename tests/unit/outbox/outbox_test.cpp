// Outbox and intents: what a ghost or the bot asks for reaches the (spec-checked) homeserver
// double once, in order per room, through rate limits, 5xx answers, outages and restarts.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <regex>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "homeserver_double.h"
#include "journal/journal.h"
#include "matrix/hs_client.h"
#include "matrix/intent_pool.h"
#include "store/database.h"
#include "temp_dir.h"

using namespace std::chrono_literals;
using namespace mxbridge;
using namespace mxbridge::detail;
using DoubleConfig = mxbridge::test::HomeserverConfig;
using mxbridge::test::HomeserverDouble;
using mxbridge::test::TempDir;
using nlohmann::json;

namespace {

const UserId kGhost("@_bridge_alice:example.org");
const std::string kAlice = "@alice:example.org";

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (predicate()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return predicate();
}

// A bridge's outbox as the runtime wires it: database, running journal, homeserver client.
// close() and open() stop and restart everything but the database file and the double.
class Rig {
public:
    explicit Rig(DoubleConfig config = {}) : hs(config) {
        database = std::make_unique<Database>((dir / "bridge.db").string(), "test", Durability::ProcessCrash);
        client = std::make_unique<HomeserverClient>(hs.url(), Secret<std::string>(hs.config().asToken),
                                                    std::chrono::seconds(5));
        open();
    }
    ~Rig() { close(); }

    void open(bool start = true) {
        journal = std::make_unique<Journal>(*database, JournalOptions{}, metrics);
        (void)journal->recover();
        journal->start([](std::vector<DispatchItem>&&) {}, [] { return size_t(0); });
        OutboxOptions options;
        options.backoffBase = 20ms;
        options.backoffCap = 200ms;
        pool = std::make_unique<IntentPool>(
            *database, *journal, *client, metrics, UserId(hs.botUserId()), options,
            [this](const SentEvent& e) {
                std::lock_guard lock(mutex);
                sent.push_back(e);
            },
            [this](const OutboxFailure& f) {
                std::lock_guard lock(mutex);
                failures.push_back(f);
            });
        if (start) pool->start();
    }
    void close() {
        if (pool) pool->stop();
        if (journal) journal->stop();
        pool.reset();
        journal.reset();
    }

    IntentImpl& ghost() { return pool->intent(kGhost); }
    IntentImpl& bot() { return pool->bot(); }
    bool idle(std::chrono::milliseconds timeout = 10s) { return pool->outbox().waitIdle(timeout); }

    std::optional<EventId> eventFor(const std::string& remoteId) {
        std::lock_guard lock(mutex);
        for (const auto& e : sent)
            if (e.remoteId.str() == remoteId) return e.event;
        return std::nullopt;
    }
    EventId waitEvent(const std::string& remoteId) {
        REQUIRE(eventually([&] { return eventFor(remoteId).has_value(); }));
        return *eventFor(remoteId);
    }
    std::vector<OutboxFailure> failuresSeen() {
        std::lock_guard lock(mutex);
        return failures;
    }

    // Bodies of the m.room.message events `sender` sent to `room`, in timeline order.
    std::vector<std::string> bodies(const std::string& room, const UserId& sender = kGhost) {
        std::vector<std::string> out;
        for (const auto& ev : hs.timeline(room))
            if (ev["type"] == "m.room.message" && ev["sender"] == sender.str()) out.push_back(ev["content"].value("body", ""));
        return out;
    }
    std::vector<mxbridge::test::RecordedRequest> requestsTo(const std::string& needle) {
        std::vector<mxbridge::test::RecordedRequest> out;
        for (const auto& r : hs.requests())
            if (r.path.find(needle) != std::string::npos) out.push_back(r);
        return out;
    }

    TempDir dir;
    HomeserverDouble hs;
    Metrics metrics;
    std::unique_ptr<Database> database;
    std::unique_ptr<HomeserverClient> client;
    std::unique_ptr<Journal> journal;
    std::unique_ptr<IntentPool> pool;
    std::mutex mutex;
    std::vector<SentEvent> sent;
    std::vector<OutboxFailure> failures;
};

OutgoingMessage text(std::string body) {
    OutgoingMessage m;
    m.body = std::move(body);
    return m;
}

// The room `intent` creates, waited for.
RoomId createdBy(IntentImpl& intent, const RoomCreation& creation) {
    std::mutex m;
    std::optional<Result<RoomId>> created;
    intent.createRoom(creation, [&](Result<RoomId> r) {
        std::lock_guard lock(m);
        created.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return created.has_value(); }));
    REQUIRE(created->ok());
    return created->value();
}

std::string publicRoom(HomeserverDouble& hs) {
    hs.addUser(kAlice);
    return hs.createRoom(kAlice, json{{"preset", "public_chat"}});
}

}  // namespace

TEST_CASE("a ghost's first message registers it, joins through the bot's invite and is sent with a stable txnId") {
    Rig rig;
    rig.hs.addUser(kAlice);
    // Invite-only: the ghost cannot join alone; the bot is invited and can invite it.
    const std::string room = rig.hs.createRoom(kAlice, json{{"preset", "private_chat"}, {"invite", {rig.hs.botUserId()}}});

    rig.ghost().sendMessage(RoomId(room), text("hello from IRC"), RemoteMessageId("irc-1"));
    EventId sent = rig.waitEvent("irc-1");
    REQUIRE(rig.idle());

    CHECK(rig.hs.isRegistered(kGhost.str()));
    auto members = rig.hs.members(room);
    CHECK(members[kGhost.str()] == "join");
    CHECK(members[rig.hs.botUserId()] == "join");
    CHECK(rig.bodies(room) == std::vector<std::string>{"hello from IRC"});
    auto timeline = rig.hs.timeline(room);
    auto msg = std::find_if(timeline.begin(), timeline.end(), [&](const json& e) { return e["event_id"] == sent.str(); });
    REQUIRE(msg != timeline.end());
    CHECK((*msg)["sender"] == kGhost.str());
    CHECK((*msg)["content"] == json{{"msgtype", "m.text"}, {"body", "hello from IRC"}});

    auto sends = rig.requestsTo("/send/m.room.message/");
    REQUIRE(sends.size() == 1);
    CHECK(std::regex_search(sends[0].path, std::regex("/send/m\\.room\\.message/mxb[0-9]+-[0-9]+$")));
    CHECK(sends[0].query.at("user_id") == kGhost.str());
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("edits, replies, reactions, redactions, HTML, notices, emotes and backfill timestamps have their Matrix shapes") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    const RoomId r(room);

    OutgoingMessage html = text("hello *world*");
    html.html = "hello <b>world</b>";
    rig.ghost().sendMessage(r, html, RemoteMessageId("m1"));
    EventId first = rig.waitEvent("m1");

    OutgoingMessage reply = text("a reply");
    reply.replyTo = first;
    reply.kind = MessageKind::Notice;
    rig.ghost().sendMessage(r, reply, RemoteMessageId("m2"));
    OutgoingMessage edit = text("hello *there*");
    edit.html = "hello <b>there</b>";
    edit.replaces = first;
    rig.ghost().sendMessage(r, edit);
    OutgoingMessage emote = text("waves");
    emote.kind = MessageKind::Emote;
    emote.timestampMs = 1600000000000;
    rig.ghost().sendMessage(r, emote, RemoteMessageId("m3"));
    rig.ghost().sendReaction(r, first, "👍", RemoteMessageId("react-1"));
    EventId reaction = rig.waitEvent("react-1");
    rig.ghost().redact(r, reaction, "taken back");
    REQUIRE(rig.idle());

    std::vector<json> events;
    for (const auto& ev : rig.hs.timeline(room))
        if (ev["sender"] == kGhost.str() && ev["type"] != "m.room.member") events.push_back(ev);
    // Seen once with 5 under a loaded machine: say which, and what the outbox was refused.
    INFO("timeline: " << json(rig.hs.timeline(room)).dump());
    INFO("failures: " << rig.failures.size());
    REQUIRE(events.size() == 6);
    CHECK(events[0]["content"] == json{{"msgtype", "m.text"}, {"body", "hello *world*"},
                                       {"format", "org.matrix.custom.html"}, {"formatted_body", "hello <b>world</b>"}});
    CHECK(events[1]["content"]["msgtype"] == "m.notice");
    CHECK(events[1]["content"]["m.relates_to"] == json{{"m.in_reply_to", {{"event_id", first.str()}}}});
    const json& e = events[2]["content"];
    CHECK(e["body"] == "* hello *there*");
    CHECK(e["formatted_body"] == "* hello <b>there</b>");
    CHECK(e["m.new_content"] == json{{"msgtype", "m.text"}, {"body", "hello *there*"},
                                     {"format", "org.matrix.custom.html"}, {"formatted_body", "hello <b>there</b>"}});
    CHECK(e["m.relates_to"] == json{{"rel_type", "m.replace"}, {"event_id", first.str()}});
    CHECK(events[3]["content"]["msgtype"] == "m.emote");
    CHECK(events[3]["origin_server_ts"] == 1600000000000LL);
    CHECK(events[4]["type"] == "m.reaction");
    // Redacted by now: the content is gone, the redaction names it.
    CHECK(events[4]["unsigned"]["redacted_because"]["content"]["reason"] == "taken back");
    CHECK(events[5]["type"] == "m.room.redaction");
    CHECK(events[5]["redacts"] == reaction.str());
    auto reactionRequests = rig.requestsTo("/send/m.reaction/");
    REQUIRE(reactionRequests.size() == 1);
    CHECK(reactionRequests[0].body == json{{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", first.str()}, {"key", "👍"}}}});
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a display name is set only when it changed, also after a restart") {
    Rig rig;
    rig.ghost().setDisplayName("Alice (IRC)");
    REQUIRE(rig.idle());
    rig.ghost().setDisplayName("Alice (IRC)");
    REQUIRE(rig.idle());
    CHECK(rig.requestsTo("/profile/").size() == 1);
    CHECK(rig.hs.profile(kGhost.str()).displayname == std::optional<std::string>("Alice (IRC)"));

    rig.ghost().setAvatarUrl("mxc://example.org/avatar");
    rig.ghost().setDisplayName("Alice");
    REQUIRE(rig.idle());
    CHECK(rig.requestsTo("/profile/").size() == 3);

    rig.close();
    rig.open();
    rig.ghost().setDisplayName("Alice");
    rig.ghost().setAvatarUrl("mxc://example.org/avatar");
    REQUIRE(rig.idle());
    CHECK(rig.requestsTo("/profile/").size() == 3);
    CHECK(rig.hs.profile(kGhost.str()).displayname == std::optional<std::string>("Alice"));
    CHECK(rig.hs.profile(kGhost.str()).avatarUrl == std::optional<std::string>("mxc://example.org/avatar"));
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a portal room is created with m.bridge and uk.half-shot.bridge and the bot at power level 100") {
    Rig rig;
    RoomCreation creation;
    creation.name = "#matrix";
    creation.topic = "Matrix talk";
    creation.aliasLocalpart = "_bridge_libera_matrix";
    BridgeStateInfo info{"irc", "irc", "IRC", RemoteRoomId("libera/#matrix"), "#matrix", UserId(kAlice)};
    std::mutex m;
    std::optional<Result<RoomId>> result;
    rig.bot().createPortalRoom(creation, info, [&](Result<RoomId> r) {
        std::lock_guard lock(m);
        result.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return result.has_value(); }));
    REQUIRE(result->ok());
    const std::string room = result->value().str();

    const std::string key = "mxbridge://irc/libera/#matrix";
    for (const char* type : {"m.bridge", "uk.half-shot.bridge"}) {
        CAPTURE(type);
        auto content = rig.hs.stateContent(room, type, key);
        REQUIRE(content.has_value());
        CHECK((*content)["bridgebot"] == rig.hs.botUserId());
        CHECK((*content)["creator"] == kAlice);
        CHECK((*content)["protocol"] == json{{"id", "irc"}, {"displayname", "IRC"}});
        CHECK((*content)["channel"] == json{{"id", "libera/#matrix"}, {"displayname", "#matrix"}});
    }
    CHECK(rig.hs.stateContent(room, "m.room.power_levels")->at("users").at(rig.hs.botUserId()) == 100);
    CHECK(rig.hs.roomForAlias("#_bridge_libera_matrix:example.org") == std::optional<std::string>(room));
    CHECK(rig.hs.stateContent(room, "m.room.topic")->at("topic") == "Matrix talk");

    // Room settings as the bot, afterwards: power levels are merged, not replaced.
    rig.bot().setPowerLevels(RoomId(room), {{kGhost, 50}});
    rig.bot().setRoomName(RoomId(room), "#matrix (libera)");
    REQUIRE(rig.idle());
    auto levels = rig.hs.stateContent(room, "m.room.power_levels")->at("users");
    CHECK(levels.at(rig.hs.botUserId()) == 100);
    CHECK(levels.at(kGhost.str()) == 50);
    CHECK(rig.hs.stateContent(room, "m.room.name")->at("name") == "#matrix (libera)");
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a portal creation whose alias an earlier unanswered attempt already took gets that room, not an error") {
    Rig rig;
    // What the attempt before a crash made: the room exists with the alias, nothing knows it.
    const std::string earlier = rig.hs.createRoom(rig.hs.botUserId(),
                                                  json{{"preset", "public_chat"}, {"room_alias_name", "_bridge_libera_matrix"}});
    RoomCreation creation;
    creation.name = "#matrix";
    creation.aliasLocalpart = "_bridge_libera_matrix";
    CHECK(createdBy(rig.bot(), creation).str() == earlier);
    CHECK(rig.hs.roomForAlias("#_bridge_libera_matrix:example.org") == std::optional<std::string>(earlier));
    CHECK(rig.failuresSeen().empty());
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a 429 with retry_after_ms is waited out before the message is sent again") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.ghost().sendMessage(RoomId(room), text("warm-up"));
    REQUIRE(rig.idle());

    rig.hs.rateLimitNext(1, 400);
    auto started = std::chrono::steady_clock::now();
    rig.ghost().sendMessage(RoomId(room), text("after the limit"), RemoteMessageId("m"));
    rig.waitEvent("m");
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= 400ms);
    CHECK(waited < 3s);
    CHECK(rig.bodies(room) == std::vector<std::string>{"warm-up", "after the limit"});
    auto sends = rig.requestsTo("/send/");
    REQUIRE(sends.size() == 3);
    CHECK(sends[1].status == 429);
    CHECK(sends[1].path == sends[2].path);  // the same txnId
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("5xx answers are retried with back-off until the message goes through") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.ghost().sendMessage(RoomId(room), text("warm-up"));
    REQUIRE(rig.idle());

    rig.hs.failNext(3, 502);
    rig.ghost().sendMessage(RoomId(room), text("eventually"));
    REQUIRE(rig.idle());
    CHECK(rig.bodies(room) == std::vector<std::string>{"warm-up", "eventually"});
    auto sends = rig.requestsTo("/send/");
    REQUIRE(sends.size() == 5);
    CHECK(sends[1].status == 502);
    CHECK(sends[3].status == 502);
    CHECK(sends[4].status == 200);
    CHECK(rig.metrics.counter("mxbridge_homeserver_errors_total", "", {{"errcode", "M_UNKNOWN"}}).value() == 3);
    CHECK(rig.failuresSeen().empty());
}

TEST_CASE("while the homeserver is down nothing is lost and each room keeps its order") {
    Rig rig;
    std::vector<std::string> rooms;
    for (int i = 0; i < 3; ++i) rooms.push_back(publicRoom(rig.hs));
    rig.hs.goDown(1500ms);
    constexpr int kPerRoom = 25;
    for (int n = 0; n < kPerRoom; ++n)
        for (const auto& room : rooms) rig.ghost().sendMessage(RoomId(room), text(room + " #" + std::to_string(n)));
    REQUIRE(rig.idle(20s));
    for (const auto& room : rooms) {
        std::vector<std::string> expected;
        for (int n = 0; n < kPerRoom; ++n) expected.push_back(room + " #" + std::to_string(n));
        CHECK(rig.bodies(room) == expected);
    }
    CHECK(rig.metrics.counter("mxbridge_homeserver_errors_total", "", {{"errcode", "network"}}).value() > 0);
    CHECK(rig.metrics.gauge("mxbridge_outbox_queued", "").value() == 0);
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("queued requests survive a restart of the bridge and are sent exactly once") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.hs.goDown();
    for (int n = 0; n < 10; ++n) rig.ghost().sendMessage(RoomId(room), text("m" + std::to_string(n)));
    REQUIRE(eventually([&] { return rig.pool->outbox().pending() == 10; }));
    std::this_thread::sleep_for(100ms);  // a few failed attempts while down
    rig.close();

    {
        SQLite::Database db((rig.dir / "bridge.db").string());
        SQLite::Statement count(db, "SELECT COUNT(*) FROM outbox");
        REQUIRE(count.executeStep());
        CHECK(count.getColumn(0).getInt() == 10);
    }
    rig.hs.comeBack();
    rig.open();
    REQUIRE(rig.idle());
    std::vector<std::string> expected;
    for (int n = 0; n < 10; ++n) expected.push_back("m" + std::to_string(n));
    CHECK(rig.bodies(room) == expected);
    rig.close();
    SQLite::Database db((rig.dir / "bridge.db").string());
    SQLite::Statement count(db, "SELECT COUNT(*) FROM outbox");
    REQUIRE(count.executeStep());
    CHECK(count.getColumn(0).getInt() == 0);
}

TEST_CASE("a send repeated after a crash reuses its txnId and the homeserver keeps one event") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.ghost().sendMessage(RoomId(room), text("only once"), RemoteMessageId("m"));
    EventId first = rig.waitEvent("m");
    rig.close();
    // A crash after the homeserver answered but before the row's deletion was committed:
    // the row is back, with its id and creation time.
    auto sends = rig.requestsTo("/send/");
    REQUIRE(sends.size() == 1);
    std::smatch match;
    REQUIRE(std::regex_search(sends[0].path, match, std::regex("/mxb([0-9]+)-([0-9]+)$")));
    {
        SQLite::Database db((rig.dir / "bridge.db").string(), SQLite::OPEN_READWRITE);
        SQLite::Statement insert(db, "INSERT INTO outbox(id, queue_key, actor, kind, payload, created_ms) "
                                     "VALUES (?, ?, ?, 'send', ?, ?)");
        insert.bind(1, static_cast<int64_t>(std::stoll(match[2])));
        insert.bind(2, room);
        insert.bind(3, kGhost.str());
        insert.bind(4, json{{"room_id", room}, {"type", "m.room.message"}, {"remote_id", "m"},
                            {"content", {{"msgtype", "m.text"}, {"body", "only once"}}}}.dump());
        insert.bind(5, static_cast<int64_t>(std::stoll(match[1])));
        insert.exec();
    }
    rig.sent.clear();
    rig.open();
    EventId again = rig.waitEvent("m");
    REQUIRE(rig.idle());
    CHECK(again == first);
    CHECK(rig.bodies(room) == std::vector<std::string>{"only once"});
    sends = rig.requestsTo("/send/");
    REQUIRE(sends.size() == 2);
    CHECK(sends[0].path == sends[1].path);
}

TEST_CASE("a permanent 403 is reported with the room, the intent and the reason, and the room goes on") {
    Rig rig;
    rig.hs.addUser(kAlice);
    // Only power level 100 may talk.
    const std::string room = rig.hs.createRoom(kAlice, json{{"preset", "public_chat"},
                                                           {"power_level_content_override", {{"events_default", 100}}}});
    rig.ghost().sendMessage(RoomId(room), text("am I allowed?"), RemoteMessageId("m"));
    rig.ghost().setTopic(RoomId(room), "new topic");  // state_default 50: refused too
    rig.ghost().leave(RoomId(room));
    REQUIRE(rig.idle());
    auto failures = rig.failuresSeen();
    REQUIRE(failures.size() == 2);
    CHECK(failures[0].room == RoomId(room));
    CHECK(failures[0].actor == kGhost);
    CHECK(failures[0].kind == "send");
    CHECK(failures[0].status == 403);
    CHECK(failures[0].errcode == "M_FORBIDDEN");
    CHECK(failures[0].reason.find("power level") != std::string::npos);
    CHECK(failures[0].remoteId == RemoteMessageId("m"));
    CHECK(failures[1].kind == "state");
    CHECK(rig.hs.members(room)[kGhost.str()] == "leave");
    CHECK(rig.metrics.counter("mxbridge_outbox_failures_total", "").value() == 2);
    CHECK(rig.bodies(room).empty());
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a ghost kicked behind the bridge's back joins again before its next message") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.ghost().sendMessage(RoomId(room), text("one"));
    REQUIRE(rig.idle());
    // Alice kicks the ghost with a client the bridge does not watch here.
    rig.hs.injectEvent(json{{"type", "m.room.member"}, {"room_id", room}, {"sender", kAlice},
                            {"state_key", kGhost.str()}, {"content", {{"membership", "leave"}}}});
    rig.ghost().sendMessage(RoomId(room), text("two"));
    REQUIRE(rig.idle());
    CHECK(rig.bodies(room) == std::vector<std::string>{"one", "two"});
    CHECK(rig.failuresSeen().empty());
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("typing, read receipts and presence reach the homeserver") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.ghost().sendMessage(RoomId(room), text("hi"), RemoteMessageId("m"));
    EventId ev = rig.waitEvent("m");
    rig.ghost().setTyping(RoomId(room), true, 10s);
    rig.ghost().markRead(RoomId(room), ev);
    rig.ghost().setPresence("online", "on IRC");
    REQUIRE(rig.idle());
    CHECK(rig.hs.typing(room) == std::vector<std::string>{kGhost.str()});
    auto receipts = rig.hs.receipts();
    REQUIRE(receipts.size() == 1);
    CHECK(receipts[0]["event_id"] == ev.str());
    CHECK(rig.hs.presence(kGhost.str())->at("presence") == "online");
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("uploaded media comes back through the authenticated download endpoint") {
    Rig rig;
    const std::string bytes("\x89PNG\r\n\x1a\n\0binary\xff", 16);
    std::mutex m;
    std::optional<Result<std::string>> uploaded, downloaded;
    rig.bot().uploadMedia(bytes, "image/png", "cat.png", [&](Result<std::string> r) {
        std::lock_guard lock(m);
        uploaded.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return uploaded.has_value(); }));
    REQUIRE(uploaded->ok());
    CHECK(rig.hs.media(uploaded->value()) == std::optional<std::string>(bytes));
    rig.bot().downloadMedia(uploaded->value(), [&](Result<std::string> r) {
        std::lock_guard lock(m);
        downloaded.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return downloaded.has_value(); }));
    REQUIRE(downloaded->ok());
    CHECK(downloaded->value() == bytes);
    CHECK(rig.requestsTo("/_matrix/client/v1/media/download/").size() == 1);
    CHECK(rig.requestsTo("/_matrix/media/v3/download/").empty());
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("downloads fall back to the old media endpoint on homeservers before v1.11") {
    DoubleConfig old;
    old.versions = {"v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"};
    old.legacyPaths = true;  // answers /_matrix/client/v1/media with 404 M_UNRECOGNIZED
    Rig rig(old);
    std::mutex m;
    std::optional<Result<std::string>> uploaded, downloaded, again;
    rig.bot().uploadMedia("hello", "text/plain", "a.txt", [&](Result<std::string> r) {
        std::lock_guard lock(m);
        uploaded.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return uploaded.has_value(); }));
    REQUIRE(uploaded->ok());
    // The runtime believed in authenticated media: the 404 sends it to the old endpoint.
    rig.bot().downloadMedia(uploaded->value(), [&](Result<std::string> r) {
        std::lock_guard lock(m);
        downloaded.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return downloaded.has_value(); }));
    REQUIRE(downloaded->ok());
    CHECK(downloaded->value() == "hello");
    // Told by /versions: straight to the old endpoint.
    rig.pool->outbox().setAuthenticatedMedia(false);
    rig.bot().downloadMedia(uploaded->value(), [&](Result<std::string> r) {
        std::lock_guard lock(m);
        again.emplace(std::move(r));
    });
    REQUIRE(eventually([&] { std::lock_guard lock(m); return again.has_value(); }));
    REQUIRE(again->ok());
    CHECK(again->value() == "hello");
    CHECK(rig.requestsTo("/_matrix/client/v1/media/download/").size() == 1);
    CHECK(rig.requestsTo("/_matrix/media/v3/download/").size() == 2);
    CHECK(rig.failuresSeen().empty());
}

TEST_CASE("a ghost without the power for a topic, a kick or a redaction is stood in for by the bot, and the kicked ghost leaves") {
    Rig rig;
    // A portal as the bridge makes it: created by the bot, which has power 100; ghosts have 0.
    RoomCreation creation;
    creation.isPublic = true;
    const RoomId room = createdBy(rig.bot(), creation);
    const UserId carol("@_bridge_carol:example.org");
    rig.pool->intent(carol).sendMessage(room, text("spam"), RemoteMessageId("spam"));
    EventId spam = rig.waitEvent("spam");
    rig.ghost().join(room);
    REQUIRE(rig.idle());

    rig.ghost().setTopic(room, "set on IRC by an op");
    rig.ghost().redact(room, spam, "spam");
    rig.ghost().kick(room, carol, "bye");
    REQUIRE(rig.idle());

    CHECK(rig.hs.stateContent(room.str(), "m.room.topic").value_or(json::object()).value("topic", "") ==
          "set on IRC by an op");
    CHECK(rig.hs.members(room.str())[carol.str()] == "leave");
    json kick, redaction;
    for (const auto& e : rig.hs.timeline(room.str())) {
        if (e["type"] == "m.room.member" && e["state_key"] == carol.str() && e["content"].value("membership", "") == "leave")
            kick = e;
        if (e["type"] == "m.room.redaction") redaction = e;
    }
    CHECK(kick.value("sender", "") == rig.hs.botUserId());
    CHECK(kick["content"].value("reason", "") == "bye");
    CHECK(redaction.value("redacts", "") == spam.str());
    CHECK(rig.failuresSeen().empty());
    CHECK(rig.metrics.counter("mxbridge_outbox_acted_by_bot_total", "", {{"kind", "state"}}).value() == 1);
    CHECK(rig.metrics.counter("mxbridge_outbox_acted_by_bot_total", "", {{"kind", "kick"}}).value() == 1);
    CHECK(rig.metrics.counter("mxbridge_outbox_acted_by_bot_total", "", {{"kind", "redact"}}).value() == 1);
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a private chat created by a ghost has no bot until the bot must speak there, then the ghost invites it") {
    Rig rig;
    rig.hs.addUser(kAlice);
    RoomCreation creation;
    creation.isDirect = true;
    creation.invite.push_back(UserId(kAlice));
    const RoomId room = createdBy(rig.ghost(), creation);
    auto members = rig.hs.members(room.str());
    CHECK(members[kGhost.str()] == "join");
    CHECK(members[kAlice] == "invite");
    CHECK(members.count(rig.hs.botUserId()) == 0);
    auto creates = rig.requestsTo("/createRoom");
    REQUIRE(creates.size() == 1);
    CHECK(creates[0].body.value("is_direct", false));
    CHECK(creates[0].body["invite"] == json::array({kAlice}));

    rig.bot().sendMessage(room, text("your message could not be delivered"));
    REQUIRE(rig.idle());
    CHECK(rig.hs.members(room.str())[rig.hs.botUserId()] == "join");
    CHECK(rig.bodies(room.str(), UserId(rig.hs.botUserId())) ==
          std::vector<std::string>{"your message could not be delivered"});
    CHECK(rig.failuresSeen().empty());
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a send whose event the homeserver created before answering can be waited for, and is mapped when the wait ends") {
    Rig rig;
    const std::string room = publicRoom(rig.hs);
    rig.ghost().sendMessage(RoomId(room), text("first"), RemoteMessageId("irc-first"));
    rig.waitEvent("irc-first");
    REQUIRE(rig.idle());
    Outbox& outbox = rig.pool->outbox();
    CHECK_FALSE(outbox.inFlight(room));
    CHECK(outbox.waitInFlight(room, 10ms));  // nothing at the homeserver: no wait

    rig.hs.setAnswerDelay("sendMessage", 800ms);
    rig.ghost().sendMessage(RoomId(room), text("late answer"), RemoteMessageId("irc-late"));
    // The event exists on the homeserver (and would be pushed) while its answer is held back.
    REQUIRE(eventually([&] { return rig.bodies(room).size() == 2; }));
    CHECK(outbox.inFlight(room));
    CHECK(outbox.waitInFlight(room, 5s));
    {
        std::lock_guard lock(rig.mutex);
        auto mapped = std::find_if(rig.sent.begin(), rig.sent.end(),
                                   [](const SentEvent& s) { return s.remoteId.str() == "irc-late"; });
        CHECK(mapped != rig.sent.end());
    }
    CHECK_FALSE(outbox.inFlight(room));
    CHECK(rig.hs.specViolations().empty());
}

TEST_CASE("a media download keeps exactly the file's bytes, and one over its limit is refused unread") {
    Rig rig;
    std::string bytes(200 * 1024, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
    const std::string mxc = rig.hs.addMedia(bytes, "application/octet-stream", "blob.bin");
    const std::string path = "/_matrix/client/v1/media/download/" + mxc.substr(6);
    HsResponse whole = rig.client->download(path, bytes.size());
    CHECK(whole.status == 200);
    CHECK_FALSE(whole.tooLarge);
    CHECK(whole.raw == bytes);
    CHECK(whole.contentDisposition == "inline; filename=\"blob.bin\"");
    HsResponse tooBig = rig.client->download(path, bytes.size() - 1);
    CHECK(tooBig.tooLarge);
    CHECK(tooBig.raw.empty());
}
