// BotDirectChats: notices reach a user in their DM with the bridge bot, made if there is none.
#include <doctest/doctest.h>

#include "mxbridge/testing/memory_stores.h"
#include "mxbridge/testing/recording_intent.h"
#include "ops/bot_direct_chats.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace mxbridge::testing;

namespace {

struct Rig {
    ManualClock clock;
    IntentLog log;
    RecordingIntent bot{UserId("@bridge_bot:hs.test"), "hs.test", log, clock};
    MemoryKvStore kv;
    BotDirectChats chats{bot, kv};
};

const UserId kAlice("@alice:hs.test");

}  // namespace

TEST_CASE("a user who sent the bot a command is told in that room") {
    Rig rig;
    rig.chats.remember(kAlice, RoomId("!dm:hs.test"));
    rig.chats.tell(kAlice, "your login was refused");
    REQUIRE(rig.log.ofOp("sendMessage").size() == 1);
    CHECK(rig.log.ofOp("sendMessage")[0].room == RoomId("!dm:hs.test"));
    CHECK(rig.log.ofOp("sendMessage")[0].message->kind == MessageKind::Notice);
    CHECK(rig.log.ofOp("sendMessage")[0].message->body == "your login was refused");
    CHECK(rig.log.ofOp("createRoom").empty());
}

TEST_CASE("for a user without a DM the bot creates one once, and every notice waiting goes there") {
    Rig rig;
    rig.chats.tell(kAlice, "first");
    rig.chats.tell(kAlice, "second");
    REQUIRE(rig.log.ofOp("createRoom").size() == 1);
    const RoomCreation& creation = *rig.log.ofOp("createRoom")[0].creation;
    CHECK(creation.isDirect);
    CHECK(creation.invite == std::vector<UserId>{kAlice});
    CHECK(rig.log.ofOp("sendMessage").empty());
    rig.clock.runDue();  // the homeserver answers
    auto sent = rig.log.ofOp("sendMessage");
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].message->body == "first");
    CHECK(sent[1].message->body == "second");
    CHECK(sent[0].room == sent[1].room);
    rig.chats.tell(kAlice, "third");  // remembered now, also for the next start (the kv store)
    CHECK(rig.log.ofOp("createRoom").size() == 1);
    CHECK(rig.log.ofOp("sendMessage").back().room == sent[0].room);
    CHECK(rig.kv.get(std::string(BotDirectChats::kKeyPrefix) + kAlice.str()) == sent[0].room.str());
}

TEST_CASE("a DM that could not be created is tried again for the next notice") {
    Rig rig;
    rig.log.failNext(Error::transient("M_LIMIT_EXCEEDED", "slow down"));
    rig.chats.tell(kAlice, "lost");
    rig.clock.runDue();
    CHECK(rig.log.ofOp("sendMessage").empty());
    rig.chats.tell(kAlice, "kept");
    rig.clock.runDue();
    CHECK(rig.log.ofOp("createRoom").size() == 2);
    REQUIRE(rig.log.ofOp("sendMessage").size() == 1);
    CHECK(rig.log.ofOp("sendMessage")[0].message->body == "kept");
}
