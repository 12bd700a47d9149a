// PortalManager: what BridgeContext::queueRemote does, seen through fake intents and stores.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "bridge/ghost_names.h"
#include "bridge/portal_manager.h"
#include "bridge/remote_event_json.h"
#include "fakes.h"
#include "journal/journal.h"
#include "store/database.h"
#include "store/sqlite_portal_wait_store.h"
#include "temp_dir.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace fakes;
using namespace std::chrono_literals;

namespace {

struct World {
    explicit World(unsigned workers = 1, PortalWaitStore* waiting = nullptr,
                   std::chrono::milliseconds aliasQueryHoldLimit = std::chrono::seconds(30),
                   std::chrono::milliseconds sendAnswerWaitLimit = std::chrono::seconds(30)) {
        manager = std::make_unique<PortalManager>(PortalManager::Deps{
            .intentFor = [this](const UserId& user) -> Intent& { return intent(user); },
            .bot = bot,
            .links = links,
            .users = users,
            .eventMappings = mappings,
            .ghostUserId = [](const std::string& id) { return ghostUserIdFor("test_", "", "hs", id); },
            .aliasFor = [](const std::string& id) { return "test_" + id; },
            .bridgeName = "test",
            .networkName = "Test Network",
            .metrics = metrics,
            .logger = Logger("portals"),
            .workers = workers,
            .waiting = waiting,
            .aliasQueryHoldLimit = aliasQueryHoldLimit,
            .sendAnswerWaitLimit = sendAnswerWaitLimit,
        });
    }
    ~World() {
        later.joinAll();  // the fakes' callbacks use the intents below
        manager.reset();
    }

    FakeIntent& intent(const UserId& user) {
        std::lock_guard lock(intentsMutex);
        auto& slot = intents[user];
        if (!slot) slot = std::make_unique<FakeIntent>(user, calls, later, options);
        return *slot;
    }
    void settle() { REQUIRE(manager->waitIdle(5s)); }
    uint64_t counter(const std::string& name, const Labels& labels = {}) {
        return metrics.counter(name, "", labels).value();
    }
    void queue(RemoteEvent event) { manager->queueRemote(std::move(event)); }

    CallLog calls;
    FakeIntentOptions options;
    Later later;
    FakeLinkStore links;
    FakeUserStore users;
    FakeEventMappingStore mappings;
    Metrics metrics;
    FakeIntent bot{UserId("@bot:hs"), calls, later, options};
    std::mutex intentsMutex;
    std::map<UserId, std::unique_ptr<FakeIntent>> intents;
    std::unique_ptr<PortalManager> manager;
};

RemoteSender sender(const std::string& ghostId, std::optional<std::string> name = std::nullopt,
                    std::optional<std::string> avatar = std::nullopt) {
    return RemoteSender{RemoteUserId("net/" + ghostId), ghostId, std::move(name), std::move(avatar)};
}

PortalInfo portal(const std::string& id, bool createIfMissing = true) {
    PortalInfo p;
    p.id = RemoteRoomId(id);
    p.name = "Room " + id;
    p.topic = "about " + id;
    p.aliasId = "alias";
    p.isPublic = true;
    p.createIfMissing = createIfMissing;
    return p;
}

RemoteMessage message(const PortalInfo& p, RemoteSender from, const std::string& id,
                      const std::string& body) {
    RemoteMessage m;
    m.portal = p;
    m.sender = std::move(from);
    m.id = RemoteMessageId(id);
    m.body = body;
    return m;
}

std::vector<std::string> bodies(const std::vector<Call>& calls, const std::string& room = {}) {
    std::vector<std::string> out;
    for (const Call& c : calls)
        if (room.empty() || c.room == room) out.push_back(c.text);
    return out;
}

const std::string kAlice = "@test_alice:hs";
const std::string kBob = "@test_bob:hs";

}  // namespace

TEST_CASE("the first messages to an unknown remote room create its portal once, then arrive in order") {
    World world(2);
    world.options.createDelay = 80ms;
    PortalInfo info = portal("net/#room");

    constexpr int kThreads = 4;
    constexpr int kMessages = 50;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go) std::this_thread::yield();
            for (int i = t; i < kMessages; i += kThreads)
                world.queue(message(info, sender("user" + std::to_string(t)), "m" + std::to_string(i),
                                    std::to_string(t) + ":" + std::to_string(i)));
        });
    }
    go = true;
    for (auto& t : threads) t.join();
    world.settle();

    auto creates = world.calls.ofOp("create");
    REQUIRE(creates.size() == 1);
    CHECK(creates[0].user == "@bot:hs");
    const RoomCreation& c = creates[0].creation;
    CHECK(c.name == "Room net/#room");
    CHECK(c.topic == "about net/#room");
    CHECK(c.aliasLocalpart == "test_alias");
    CHECK(c.isPublic);
    CHECK_FALSE(c.isDirect);
    REQUIRE(c.initialState.size() == 2);
    nlohmann::json expected = {
        {"bridgebot", "@bot:hs"},
        {"creator", "@bot:hs"},
        {"protocol", {{"id", "test"}, {"displayname", "Test Network"}}},
        {"channel", {{"id", "net/#room"}, {"displayname", "Room net/#room"}}},
    };
    CHECK(std::get<0>(c.initialState[0]) == "m.bridge");
    CHECK(std::get<0>(c.initialState[1]) == "uk.half-shot.bridge");
    for (const auto& [type, key, content] : c.initialState) {
        CHECK(key == "mxbridge://test/net/#room");
        CHECK(content == expected);
    }
    CHECK(world.links.linkCalls == 1);
    CHECK(world.links.forRemote(RemoteRoomId("net/#room")).size() == 1);
    CHECK(world.counter("mxbridge_portals_created_total") == 1);
    CHECK(world.counter("mxbridge_remote_events_total", {{"type", "message"}}) == kMessages);

    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == kMessages);
    std::vector<int> last(kThreads, -1);
    for (const Call& s : sends) {
        CHECK(s.room == "!created1:hs");
        int t = std::stoi(s.text.substr(0, s.text.find(':')));
        int i = std::stoi(s.text.substr(s.text.find(':') + 1));
        CHECK(s.user == "@test_user" + std::to_string(t) + ":hs");
        CHECK(s.remoteId == "m" + std::to_string(i));
        CHECK(i > last[t]);  // each thread's messages in its call order
        last[t] = i;
    }
}

TEST_CASE("messages from one thread keep queueRemote order across a portal creation") {
    World world;
    PortalInfo info = portal("net/#order");
    std::vector<std::string> want;
    for (int i = 0; i < 20; ++i) {
        want.push_back("msg " + std::to_string(i));
        world.queue(message(info, sender(i % 2 ? "alice" : "bob"), "m" + std::to_string(i), want.back()));
    }
    // Other kinds of event wait behind the creation too.
    world.queue(RemoteTyping{info.id, sender("alice"), true});
    world.settle();
    CHECK(bodies(world.calls.ofOp("send")) == want);
    auto all = world.calls.all();
    CHECK(all.back().op == "typing");
    CHECK(all.back().user == kAlice);
    CHECK(all.back().room == "!created1:hs");
}

TEST_CASE("a remote room linked to two Matrix rooms gets each message in both") {
    World world;
    RemoteRoomId remote("net/#two");
    world.links.link(Link{RoomId("!a:hs"), remote});
    world.links.link(Link{RoomId("!b:hs"), remote});
    PortalInfo info = portal(remote.str());
    for (int i = 1; i <= 3; ++i)
        world.queue(message(info, sender("alice"), "m" + std::to_string(i), "hello " + std::to_string(i)));
    world.settle();

    CHECK(world.calls.ofOp("create").empty());
    auto sends = world.calls.ofOp("send");
    CHECK(sends.size() == 6);
    std::vector<std::string> want = {"hello 1", "hello 2", "hello 3"};
    CHECK(bodies(sends, "!a:hs") == want);
    CHECK(bodies(sends, "!b:hs") == want);

    // An edit's target is an event of one room; the other room gets the marked fallback.
    world.mappings.map(RoomId("!a:hs"), EventId("$one"), remote, RemoteMessageId("m1"));
    // As the outbox does: both rooms' sends answered, one event mapped (the other unknown).
    world.manager->sendAnswered(RoomId("!a:hs"), RemoteMessageId("m1"));
    world.manager->sendAnswered(RoomId("!b:hs"), RemoteMessageId("m1"));
    world.queue(RemoteEdit{remote, sender("alice"), RemoteMessageId("m1"), "hello again", std::nullopt});
    world.settle();
    sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 8);
    for (const Call& s : {sends[6], sends[7]}) {
        if (s.room == "!a:hs") {
            CHECK(s.message.replaces == EventId("$one"));
            CHECK(s.text == "hello again");
        } else {
            CHECK_FALSE(s.message.replaces.has_value());
            CHECK(s.text == "* hello again");
        }
    }
}

TEST_CASE("ghost profiles are set only when they change, and nullopt leaves them alone") {
    World world;
    RemoteRoomId remote("net/#profiles");
    world.links.link(Link{RoomId("!p:hs"), remote});
    PortalInfo info = portal(remote.str());

    world.queue(message(info, sender("alice", "Alice", "mxc://hs/a"), "m1", "1"));
    world.queue(message(info, sender("alice", "Alice", "mxc://hs/a"), "m2", "2"));
    world.queue(message(info, sender("alice"), "m3", "3"));
    world.queue(RemoteProfile{sender("alice", "Alice 2")});
    world.queue(message(info, sender("alice", "Alice 2"), "m4", "4"));
    world.queue(RemoteProfile{sender("alice", "")});  // empty: clear
    world.queue(message(info, sender("alice", std::nullopt, "mxc://hs/b"), "m5", "5"));
    world.queue(message(info, sender("bob", "Bob"), "m6", "6"));
    world.settle();

    std::vector<std::string> names, avatars;
    for (const Call& c : world.calls.ofOp("displayname")) names.push_back(c.user + "=" + c.text);
    for (const Call& c : world.calls.ofOp("avatar")) avatars.push_back(c.user + "=" + c.text);
    CHECK(names == std::vector<std::string>{kAlice + "=Alice", kAlice + "=Alice 2", kAlice + "=", kBob + "=Bob"});
    CHECK(avatars == std::vector<std::string>{kAlice + "=mxc://hs/a", kAlice + "=mxc://hs/b"});
    CHECK(world.users.setGhostCalls == 2);
    CHECK(world.users.remoteForGhost(UserId(kAlice)) == RemoteUserId("net/alice"));
    CHECK(world.counter("mxbridge_remote_events_total", {{"type", "profile"}}) == 2);
}

TEST_CASE("replies, edits, redactions and reactions map through the event mapping store") {
    World world;
    RemoteRoomId remote("net/#map");
    RoomId room("!m:hs");
    world.links.link(Link{room, remote});
    world.mappings.map(room, EventId("$m1"), remote, RemoteMessageId("m1"));
    world.mappings.map(room, EventId("$r1"), remote, RemoteMessageId("r1"));
    PortalInfo info = portal(remote.str());

    RemoteMessage reply = message(info, sender("bob"), "m2", "me too");
    reply.replyTo = RemoteMessageId("m1");
    reply.html = "<i>me too</i>";
    world.queue(reply);
    world.queue(RemoteEdit{remote, sender("alice"), RemoteMessageId("m1"), "fixed", "<b>fixed</b>"});
    world.queue(RemoteReaction{remote, sender("bob"), RemoteMessageId("m1"), RemoteMessageId("r2"), "👍", false});
    world.queue(RemoteReaction{remote, sender("bob"), RemoteMessageId("m1"), RemoteMessageId("r1"), "👍", true});
    world.queue(RemoteRedaction{remote, sender("alice"), RemoteMessageId("m1"), "oops"});
    world.settle();

    auto all = world.calls.all();
    std::erase_if(all, [](const Call& c) { return c.op == "displayname" || c.op == "avatar"; });
    REQUIRE(all.size() == 5);
    CHECK(all[0].op == "send");
    CHECK(all[0].user == kBob);
    CHECK(all[0].message.replyTo == EventId("$m1"));
    CHECK(all[0].message.html == std::optional<std::string>("<i>me too</i>"));
    CHECK(all[0].remoteId == "m2");
    CHECK(all[1].op == "send");
    CHECK(all[1].user == kAlice);
    CHECK(all[1].message.replaces == EventId("$m1"));
    CHECK(all[1].text == "fixed");
    CHECK(all[1].message.html == std::optional<std::string>("<b>fixed</b>"));
    CHECK(all[2].op == "react");
    CHECK(all[2].target == "$m1");
    CHECK(all[2].text == "👍");
    CHECK(all[2].remoteId == "r2");
    CHECK(all[3].op == "redact");
    CHECK(all[3].user == kBob);
    CHECK(all[3].target == "$r1");
    CHECK(all[4].op == "redact");
    CHECK(all[4].user == kAlice);
    CHECK(all[4].target == "$m1");
    CHECK(all[4].text == "oops");
}

TEST_CASE("unknown targets: an edit becomes a marked new message, the rest is ignored") {
    World world;
    RemoteRoomId remote("net/#unknown");
    world.links.link(Link{RoomId("!u:hs"), remote});
    PortalInfo info = portal(remote.str());

    RemoteMessage reply = message(info, sender("bob"), "m2", "answer");
    reply.replyTo = RemoteMessageId("gone");
    world.queue(reply);
    world.queue(RemoteEdit{remote, sender("alice"), RemoteMessageId("gone"), "fixed", "<b>fixed</b>"});
    world.queue(RemoteRedaction{remote, sender("alice"), RemoteMessageId("gone"), ""});
    world.queue(RemoteReaction{remote, sender("bob"), RemoteMessageId("gone"), RemoteMessageId("r9"), "x", false});
    world.queue(RemoteReaction{remote, sender("bob"), RemoteMessageId("gone"), RemoteMessageId("r8"), "x", true});
    world.settle();

    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 2);
    CHECK_FALSE(sends[0].message.replyTo.has_value());
    CHECK(sends[0].text == "answer");
    CHECK_FALSE(sends[1].message.replaces.has_value());
    CHECK(sends[1].text == "* fixed");
    CHECK(sends[1].message.html == std::optional<std::string>("* <b>fixed</b>"));
    CHECK(world.calls.ofOp("redact").empty());
    CHECK(world.calls.ofOp("react").empty());
}

TEST_CASE("an edit, reaction and redaction right after a message wait for its send's answer and find its event") {
    // The remote network edits a line milliseconds after sending it; the line's event id is
    // known only once the homeserver answers its send (the outbox maps it then).
    World world;
    RemoteRoomId remote("net/#quick");
    RoomId room("!q:hs");
    world.links.link(Link{room, remote});
    PortalInfo info = portal(remote.str());

    world.queue(message(info, sender("bob"), "m1", "helo"));
    world.queue(RemoteEdit{remote, sender("bob"), RemoteMessageId("m1"), "hello", std::nullopt});
    world.queue(RemoteReaction{remote, sender("alice"), RemoteMessageId("m1"), RemoteMessageId("r1"), "👍", false});
    world.queue(RemoteRedaction{remote, sender("bob"), RemoteMessageId("m1"), ""});
    std::this_thread::sleep_for(100ms);
    CHECK(world.calls.ofOp("send").size() == 1);  // the edit waits for the answer
    CHECK(world.manager->pending() == 3);

    world.mappings.map(room, EventId("$m1"), remote, RemoteMessageId("m1"));
    world.manager->sendAnswered(room, RemoteMessageId("m1"));
    world.settle();

    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 2);
    CHECK(sends[1].text == "hello");
    CHECK(sends[1].message.replaces == EventId("$m1"));
    auto reacts = world.calls.ofOp("react");
    REQUIRE(reacts.size() == 1);
    CHECK(reacts[0].target == "$m1");
    auto redacts = world.calls.ofOp("redact");
    REQUIRE(redacts.size() == 1);
    CHECK(redacts[0].target == "$m1");
}

TEST_CASE("with nothing else happening, an edit whose message is never answered still goes on after the wait limit") {
    World world(1, nullptr, std::chrono::seconds(30), 300ms);
    RemoteRoomId quiet("net/#quiet");
    world.links.link(Link{RoomId("!q:hs"), quiet});
    std::this_thread::sleep_for(50ms);  // the worker is asleep, with nothing ready
    world.queue(message(portal(quiet.str()), sender("bob"), "m1", "helo"));
    world.queue(RemoteEdit{quiet, sender("bob"), RemoteMessageId("m1"), "hello", std::nullopt});
    world.settle();
    CHECK(bodies(world.calls.ofOp("send"), "!q:hs") == std::vector<std::string>{"helo", "* hello"});
}

TEST_CASE("a send that is never answered holds its edit back only for the wait limit; other portals go on") {
    World world(1, nullptr, std::chrono::seconds(30), 300ms);
    RemoteRoomId slow("net/#slow");
    RemoteRoomId other("net/#other");
    world.links.link(Link{RoomId("!s:hs"), slow});
    world.links.link(Link{RoomId("!o:hs"), other});

    world.queue(message(portal(slow.str()), sender("bob"), "m1", "helo"));
    world.queue(RemoteEdit{slow, sender("bob"), RemoteMessageId("m1"), "hello", std::nullopt});
    world.queue(message(portal(other.str()), sender("alice"), "o1", "meanwhile"));
    std::this_thread::sleep_for(100ms);
    CHECK(bodies(world.calls.ofOp("send"), "!o:hs") == std::vector<std::string>{"meanwhile"});
    world.settle();

    // Better a visible correction than a lost one, as for any unknown target.
    CHECK(bodies(world.calls.ofOp("send"), "!s:hs") == std::vector<std::string>{"helo", "* hello"});
    // Given up on: the next edit of that line does not wait again.
    world.queue(RemoteEdit{slow, sender("bob"), RemoteMessageId("m1"), "hello!", std::nullopt});
    std::this_thread::sleep_for(100ms);
    CHECK(bodies(world.calls.ofOp("send"), "!s:hs").size() == 3);
    world.settle();
}

TEST_CASE("a direct-chat portal is created by the remote user's ghost with is_direct and the Matrix user invited") {
    World world;
    PortalInfo info = portal("net/alice-dm");
    info.aliasId.clear();
    info.isPublic = false;
    info.directWith = UserId("@carol:hs");
    world.queue(message(info, sender("alice"), "m1", "psst"));
    world.settle();

    auto creates = world.calls.ofOp("create");
    REQUIRE(creates.size() == 1);
    CHECK(creates[0].creation.isDirect);
    CHECK_FALSE(creates[0].creation.isPublic);
    CHECK(creates[0].creation.aliasLocalpart.empty());
    CHECK(creates[0].creation.invite == std::vector<UserId>{UserId("@carol:hs")});
    // The ghost, not the bot: clients list the chat as one with that person.
    CHECK(creates[0].user == kAlice);
    for (const auto& [type, key, content] : creates[0].creation.initialState) {
        CHECK(content["creator"] == kAlice);
        CHECK(content["bridgebot"] == "@bot:hs");
    }
    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 1);
    CHECK(sends[0].user == kAlice);
    CHECK(sends[0].room == "!created1:hs");
}

TEST_CASE("a group chat of one Matrix user's remote account invites them at creation, made by the bot, not direct") {
    World world;
    PortalInfo info = portal("net/chat/room");
    info.aliasId.clear();
    info.isPublic = false;
    info.invite = {UserId("@carol:hs")};
    world.queue(message(info, sender("alice"), "m1", "hello room"));
    world.settle();

    auto creates = world.calls.ofOp("create");
    REQUIRE(creates.size() == 1);
    CHECK_FALSE(creates[0].creation.isDirect);
    CHECK(creates[0].creation.invite == std::vector<UserId>{UserId("@carol:hs")});
    CHECK(creates[0].user == "@bot:hs");
    // Kept across a restart while the room is being created.
    RemoteEvent back = remoteEventFromJson(remoteEventToJson(message(info, sender("alice"), "m1", "hello room")));
    CHECK(std::get<RemoteMessage>(back).portal.invite == std::vector<UserId>{UserId("@carol:hs")});
}

TEST_CASE("without a link and with createIfMissing false, events are dropped and counted") {
    World world;
    PortalInfo info = portal("net/#nowhere", false);
    world.queue(message(info, sender("alice"), "m1", "hello?"));
    world.queue(RemoteTyping{info.id, sender("alice"), true});
    world.settle();

    CHECK(world.calls.ofOp("create").empty());
    CHECK(world.calls.ofOp("send").empty());
    CHECK(world.calls.ofOp("typing").empty());
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "no_portal"}}) == 2);
    CHECK(world.counter("mxbridge_portals_created_total") == 0);
}

TEST_CASE("a failed portal creation fails the waiting events and the next event tries again") {
    World world;
    world.options.failCreations = 1;
    PortalInfo info = portal("net/#flaky");
    for (int i = 1; i <= 3; ++i)
        world.queue(message(info, sender("alice"), "m" + std::to_string(i), "lost " + std::to_string(i)));
    world.settle();

    CHECK(world.calls.ofOp("create").size() == 1);
    CHECK(world.calls.ofOp("send").empty());
    CHECK(world.counter("mxbridge_portal_creation_failures_total") == 1);
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "portal_creation"}}) == 3);
    CHECK(world.links.all().empty());

    world.queue(message(info, sender("alice"), "m4", "second try"));
    world.settle();
    CHECK(world.calls.ofOp("create").size() == 2);
    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 1);
    CHECK(sends[0].text == "second try");
    CHECK(sends[0].room == "!created1:hs");
    CHECK(world.counter("mxbridge_portals_created_total") == 1);
}

TEST_CASE("remote membership changes map to joins, leaves, kicks, bans and unbans") {
    World world;
    RemoteRoomId remote("net/#members");
    world.links.link(Link{RoomId("!r:hs"), remote});
    using Change = RemoteMembership::Change;
    world.queue(RemoteMembership{remote, sender("alice"), Change::Join, std::nullopt, ""});
    world.queue(RemoteMembership{remote, sender("alice"), Change::Leave, std::nullopt, "bye"});
    world.queue(RemoteMembership{remote, sender("bob"), Change::Kick, sender("alice"), "rude"});
    world.queue(RemoteMembership{remote, sender("bob"), Change::Kick, std::nullopt, "server"});
    world.queue(RemoteMembership{remote, sender("bob"), Change::Ban, sender("alice"), "spam"});
    world.queue(RemoteMembership{remote, sender("bob"), Change::Unban, sender("alice"), ""});
    world.settle();

    auto all = world.calls.all();
    REQUIRE(all.size() == 6);
    CHECK((all[0].op == "join" && all[0].user == kAlice && all[0].room == "!r:hs"));
    CHECK((all[1].op == "leave" && all[1].user == kAlice && all[1].text == "bye"));
    CHECK((all[2].op == "kick" && all[2].user == kAlice && all[2].target == kBob && all[2].text == "rude"));
    CHECK((all[3].op == "kick" && all[3].user == "@bot:hs" && all[3].target == kBob));
    CHECK((all[4].op == "ban" && all[4].user == kAlice && all[4].target == kBob && all[4].text == "spam"));
    CHECK((all[5].op == "state" && all[5].user == kAlice && all[5].text == "m.room.member" &&
           all[5].target == kBob));
    CHECK(all[5].content["membership"] == "leave");
}

TEST_CASE("room names, topics, power levels and typing reach the linked room") {
    World world;
    RemoteRoomId remote("net/#settings");
    world.links.link(Link{RoomId("!s:hs"), remote});
    world.queue(RemoteRoomUpdate{remote, sender("alice"), "New name", "New topic"});
    world.queue(RemoteRoomUpdate{remote, std::nullopt, std::nullopt, "Bot topic"});
    world.queue(RemotePowerLevels{remote, {{sender("alice"), 50}, {sender("Bob"), 0}}});
    world.queue(RemoteTyping{remote, sender("alice"), true});
    world.queue(RemoteTyping{remote, sender("alice"), false});
    world.settle();

    auto all = world.calls.all();
    REQUIRE(all.size() == 6);
    CHECK((all[0].op == "name" && all[0].user == kAlice && all[0].text == "New name"));
    CHECK((all[1].op == "topic" && all[1].user == kAlice && all[1].text == "New topic"));
    CHECK((all[2].op == "topic" && all[2].user == "@bot:hs" && all[2].text == "Bot topic"));
    CHECK((all[3].op == "power" && all[3].user == "@bot:hs"));
    CHECK(all[3].levels == std::map<UserId, int>{{UserId(kAlice), 50}, {UserId("@test__bob:hs"), 0}});
    CHECK((all[4].op == "typing" && all[4].user == kAlice && all[4].text == "true"));
    CHECK((all[5].op == "typing" && all[5].text == "false"));
}

TEST_CASE("a message with media is uploaded first and later messages do not overtake it") {
    World world;
    world.options.uploadDelay = 100ms;
    RemoteRoomId remote("net/#media");
    world.links.link(Link{RoomId("!md:hs"), remote});
    PortalInfo info = portal(remote.str());

    RemoteMessage photo = message(info, sender("alice"), "m1", "look");
    photo.kind = MessageKind::Image;
    photo.media = RemoteMedia{"PNGBYTES", "image/png", "cat.png"};
    world.queue(photo);
    world.queue(message(info, sender("bob"), "m2", "nice"));
    RemoteMessage broken = photo;
    broken.id = RemoteMessageId("m3");
    broken.body = "";
    world.settle();

    auto uploads = world.calls.ofOp("upload");
    REQUIRE(uploads.size() == 1);
    CHECK(uploads[0].user == kAlice);
    CHECK(uploads[0].target == "PNGBYTES");
    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 2);
    CHECK(sends[0].text == "look");
    CHECK(sends[0].message.kind == MessageKind::Image);
    REQUIRE(sends[0].message.media.has_value());
    CHECK(sends[0].message.media->mxcUrl == "mxc://hs/media1");
    CHECK(sends[0].message.media->mimeType == "image/png");
    CHECK(sends[0].message.media->fileName == "cat.png");
    CHECK(sends[0].message.media->size == 8);
    CHECK(sends[1].text == "nice");

    // A failed upload still delivers the words, as a notice, and is counted.
    world.options.failUploads = 1;
    world.queue(broken);
    world.settle();
    sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 3);
    CHECK(sends[2].message.kind == MessageKind::Notice);
    CHECK(sends[2].text == "cat.png (attachment could not be bridged)");
    CHECK_FALSE(sends[2].message.media.has_value());
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "media_upload"}}) == 1);
}

TEST_CASE("portals wait independently: a slow creation does not hold back a linked room") {
    World world;
    world.options.createDelay = 300ms;
    world.links.link(Link{RoomId("!fast:hs"), RemoteRoomId("net/#fast")});
    world.queue(message(portal("net/#slow"), sender("alice"), "s1", "slow"));
    world.queue(message(portal("net/#fast"), sender("alice"), "f1", "fast"));
    // The linked room's message is handed over at once, on this thread.
    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 1);
    CHECK(sends[0].text == "fast");
    CHECK(world.manager->pending() == 1);
    world.settle();
    CHECK(bodies(world.calls.ofOp("send")) == std::vector<std::string>{"fast", "slow"});
}

TEST_CASE("after stop, remote events are counted as not delivered") {
    World world;
    world.links.link(Link{RoomId("!x:hs"), RemoteRoomId("net/#x")});
    world.manager->stop();
    world.queue(message(portal("net/#x"), sender("alice"), "m1", "late"));
    CHECK(world.calls.ofOp("send").empty());
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "stopped"}}) == 1);
}

TEST_CASE("remote events that arrive while an alias query creates their portal wait for it and arrive in order") {
    World world;
    world.options.createDelay = 100ms;
    PortalInfo info = portal("net/#busy");
    std::optional<Result<RoomId>> answered;
    std::thread query([&] { answered = world.manager->ensurePortal(info, "test_busy", 5s); });
    // The channel's state, as the bot reads it on joining while the room is being created.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (world.calls.ofOp("create").empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    REQUIRE(world.calls.ofOp("create").size() == 1);
    using Change = RemoteMembership::Change;
    world.queue(RemoteMembership{info.id, sender("op"), Change::Join, std::nullopt, ""});
    world.queue(RemoteMembership{info.id, sender("carol"), Change::Join, std::nullopt, ""});
    world.queue(RemoteRoomUpdate{info.id, sender("op"), std::nullopt, "the op's topic"});
    world.queue(RemotePowerLevels{info.id, {{sender("op"), 50}}});
    query.join();
    world.settle();

    REQUIRE(answered.has_value());
    REQUIRE(answered->ok());
    CHECK(answered->value() == RoomId("!created1:hs"));
    CHECK(world.calls.ofOp("create").size() == 1);
    CHECK(world.calls.ofOp("create")[0].creation.aliasLocalpart == "test_busy");
    auto all = world.calls.all();
    REQUIRE(all.size() == 5);
    CHECK((all[1].op == "join" && all[1].user == "@test_op:hs" && all[1].room == "!created1:hs"));
    CHECK((all[2].op == "join" && all[2].user == "@test_carol:hs"));
    CHECK((all[3].op == "topic" && all[3].user == "@test_op:hs" && all[3].text == "the op's topic"));
    CHECK((all[4].op == "power" && all[4].levels == std::map<UserId, int>{{UserId("@test_op:hs"), 50}}));
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "no_portal"}}) == 0);
    CHECK(world.links.linkCalls == 1);
}

TEST_CASE("messages waiting for an alias query's room creation that fails are not lost: the first one creates the room again") {
    World world;
    world.options.createDelay = 100ms;
    world.options.failCreations = 1;
    PortalInfo info = portal("net/#retry");
    std::optional<Result<RoomId>> answered;
    std::thread query([&] { answered = world.manager->ensurePortal(info, "test_retry", 5s); });
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (world.calls.ofOp("create").empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    REQUIRE(world.calls.ofOp("create").size() == 1);
    world.queue(message(info, sender("alice"), "m1", "kept 1"));
    world.queue(message(info, sender("alice"), "m2", "kept 2"));
    query.join();
    world.settle();

    REQUIRE(answered.has_value());
    CHECK_FALSE(answered->ok());
    CHECK(world.calls.ofOp("create").size() == 2);
    auto sends = world.calls.ofOp("send");
    REQUIRE(sends.size() == 2);
    CHECK(sends[0].text == "kept 1");
    CHECK(sends[1].text == "kept 2");
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "portal_creation"}}) == 0);
}

TEST_CASE("an alias query during a message's portal creation gets that room, and no second room is made") {
    World world;
    world.options.createDelay = 100ms;
    PortalInfo info = portal("net/#both");
    world.queue(message(info, sender("alice"), "m1", "first"));
    REQUIRE(world.calls.ofOp("create").size() == 1);
    Result<RoomId> answered = world.manager->ensurePortal(info, "test_both", 5s);
    world.settle();
    REQUIRE(answered.ok());
    CHECK(answered.value() == RoomId("!created1:hs"));
    CHECK(world.calls.ofOp("create").size() == 1);
    CHECK(world.links.all().size() == 1);
    REQUIRE(world.calls.ofOp("send").size() == 1);
    CHECK(world.calls.ofOp("send")[0].room == "!created1:hs");
    // Later queries find the link.
    CHECK(world.manager->ensurePortal(info, "test_both", 1s).value() == RoomId("!created1:hs"));
    CHECK(world.calls.ofOp("create").size() == 1);
}

TEST_CASE("what a bridge reports while answering an alias query, before the room is asked for, waits for that room") {
    World world;
    PortalInfo info = portal("net/#early");
    std::shared_ptr<void> query = world.manager->aliasQueryInFlight();
    // onAliasQuery made the bot join; the first NAMES reply comes before ensurePortal.
    world.queue(RemoteMembership{info.id, sender("early"), RemoteMembership::Change::Join, std::nullopt, ""});
    Result<RoomId> room = world.manager->ensurePortal(info, "test_early", 5s);
    query.reset();
    world.settle();
    REQUIRE(room.ok());
    auto joins = world.calls.ofOp("join");
    REQUIRE(joins.size() == 1);
    CHECK(joins[0].user == "@test_early:hs");
    CHECK(joins[0].room == room.value().str());
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "no_portal"}}) == 0);
}

TEST_CASE("events held during an alias query that made no portal are dropped and counted when it ends") {
    World world;
    RemoteRoomId remote("net/#never");
    std::shared_ptr<void> query = world.manager->aliasQueryInFlight();
    world.queue(RemoteTyping{remote, sender("alice"), true});
    world.queue(RemoteTyping{remote, sender("alice"), false});
    CHECK(world.manager->pending() == 2);
    query.reset();
    world.settle();
    CHECK(world.calls.ofOp("typing").empty());
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "no_portal"}}) == 2);
}

TEST_CASE("overlapping alias queries hold another room's events no longer than the hold limit") {
    World world(1, nullptr, 50ms);
    RemoteRoomId remote("net/#other");
    std::shared_ptr<void> first = world.manager->aliasQueryInFlight();
    world.queue(RemoteTyping{remote, sender("alice"), true});
    std::this_thread::sleep_for(100ms);
    std::shared_ptr<void> second = world.manager->aliasQueryInFlight();  // still in flight below
    first.reset();
    CHECK(world.manager->waitIdle(5s));
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "no_portal"}}) == 1);
    // While the second query goes on, that room's events are not held again.
    world.queue(RemoteTyping{remote, sender("alice"), false});
    CHECK(world.manager->waitIdle(5s));
    CHECK(world.counter("mxbridge_remote_events_failed_total", {{"reason", "no_portal"}}) == 2);
    second.reset();
    world.settle();
    CHECK(world.calls.ofOp("typing").empty());
}

namespace {

// The bridge's SQLite file with a running journal, as the runtime wires them, and the store
// PortalManager keeps waiting events in; reopened over the same file to play a restart.
class WaitDatabase {
public:
    WaitDatabase() { open(); }
    ~WaitDatabase() { close(); }
    // The writer has committed everything queued so far (what a crash would not lose).
    void flush() { journal_->runOps({StagedOp{[](SQLite::Database&) {}, nullptr}}, true); }
    void restart() {
        close();
        open();
    }
    PortalWaitStore& store() { return *store_; }

private:
    void open() {
        database_ = std::make_unique<Database>((dir_ / "bridge.db").string(), "probe", Durability::ProcessCrash);
        journal_ = std::make_unique<Journal>(*database_, JournalOptions{}, metrics_);
        (void)journal_->recover();
        journal_->start([](std::vector<DispatchItem>&&) {}, [] { return size_t{0}; });
        store_ = std::make_unique<SqlitePortalWaitStore>(*database_, *journal_);
    }
    void close() {
        store_.reset();
        if (journal_) journal_->stop();
        journal_.reset();
        database_.reset();
    }

    test::TempDir dir_{"mxbridge-portals"};
    Metrics metrics_;
    std::unique_ptr<Database> database_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<SqlitePortalWaitStore> store_;
};

// Every kind of event a bridge reports while joining a channel, in the order it reports them.
std::vector<RemoteEvent> channelState(const PortalInfo& info) {
    std::vector<RemoteEvent> out;
    out.push_back(message(info, sender("alice", "Alice"), "m1", "first"));
    out.push_back(RemoteMembership{.room = info.id, .user = sender("bob"), .change = RemoteMembership::Change::Join,
                                   .actor = std::nullopt, .reason = ""});
    out.push_back(RemoteRoomUpdate{.room = info.id, .actor = sender("alice"), .name = std::nullopt,
                                   .topic = "the topic, with ünïcode"});
    out.push_back(RemotePowerLevels{.room = info.id, .levels = {{sender("alice"), 50}}});
    RemoteMessage withReply = message(info, sender("bob"), "m2", "second");
    withReply.html = "<b>second</b>";
    withReply.replyTo = RemoteMessageId("m1");
    out.push_back(withReply);
    return out;
}

}  // namespace

TEST_CASE("events waiting for a portal survive a restart mid-creation and arrive in order once the room exists") {
    WaitDatabase db;
    PortalInfo info = portal("net/#chan");
    {
        World before(1, &db.store());
        before.options.createDelay = 300ms;  // the answer comes after the "crash"
        for (RemoteEvent& event : channelState(info)) before.queue(std::move(event));
        REQUIRE(before.calls.ofOp("create").size() == 1);
        db.flush();
        // The crash: the manager goes before the homeserver answers, so nothing is linked.
        before.manager->stop();
        before.manager.reset();
        CHECK(before.calls.ofOp("send").empty());
    }
    db.flush();
    db.restart();
    CHECK(db.store().heldEvents().size() == 5);
    REQUIRE(db.store().creations().size() == 1);

    World after(1, &db.store());
    after.manager->resumeWaiting();
    after.settle();

    auto creates = after.calls.ofOp("create");
    REQUIRE(creates.size() == 1);
    CHECK(creates[0].user == "@bot:hs");
    CHECK(creates[0].creation.aliasLocalpart == "test_alias");
    CHECK(creates[0].creation.name == "Room net/#chan");
    const std::string room = "!created1:hs";
    REQUIRE(after.links.forRemote(info.id).size() == 1);
    CHECK(after.links.forRemote(info.id)[0].room.str() == room);

    std::vector<std::string> order;
    for (const Call& c : after.calls.all())
        if (c.op != "create" && c.op != "displayname") order.push_back(c.op + ":" + c.user + ":" + c.room + ":" + c.text);
    std::vector<std::string> expected = {
        "send:" + kAlice + ":" + room + ":first",
        "join:" + kBob + ":" + room + ":",
        "topic:" + kAlice + ":" + room + ":the topic, with ünïcode",
        "power:@bot:hs:" + room + ":",
        "send:" + kBob + ":" + room + ":second",
    };
    CHECK(order == expected);
    auto sends = after.calls.ofOp("send");
    REQUIRE(sends.size() == 2);
    CHECK(sends[1].message.html == std::optional<std::string>("<b>second</b>"));

    db.flush();
    CHECK(db.store().heldEvents().empty());  // removed as they went out: a second restart sends nothing again
    CHECK(db.store().creations().empty());
}

TEST_CASE("a restart after the portal was linked but before its creation was marked done does not create a second room") {
    WaitDatabase db;
    PortalInfo info = portal("net/#chan");
    db.store().creationStarted(PendingPortalCreation{
        .remote = info.id, .creator = UserId("@bot:hs"),
        .request = roomCreationToJson(RoomCreation{.name = "Room net/#chan", .topic = "", .aliasLocalpart = "test_alias",
                                                   .isPublic = true, .isDirect = false, .invite = {}, .initialState = {}})});
    db.store().hold(HeldRemoteEvent{.seq = 7, .remote = info.id,
                                    .event = remoteEventToJson(message(info, sender("alice"), "m1", "kept"))});
    db.flush();

    World after(1, &db.store());
    after.links.link(Link{RoomId("!linked:hs"), info.id});
    after.manager->resumeWaiting();
    after.settle();

    CHECK(after.calls.ofOp("create").empty());
    CHECK(bodies(after.calls.ofOp("send"), "!linked:hs") == std::vector<std::string>{"kept"});
    // Events queued after the restart get later sequence numbers than the stored ones.
    after.queue(message(info, sender("alice"), "m2", "new"));
    after.settle();
    CHECK(bodies(after.calls.ofOp("send"), "!linked:hs") == std::vector<std::string>{"kept", "new"});
    db.flush();
    CHECK(db.store().heldEvents().empty());
    CHECK(db.store().creations().empty());
}
