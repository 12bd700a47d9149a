// RecordingIntent: every action recorded in one order; answers arrive on the next advance.
#include <doctest/doctest.h>

#include "mxbridge/testing/recording_intent.h"

using namespace mxbridge;
using namespace mxbridge::testing;

TEST_CASE("intent actions of several users are recorded in the order they were made") {
    ManualClock clock;
    IntentLog log;
    RecordingIntent bot(UserId("@bot:hs.test"), "hs.test", log, clock);
    RecordingIntent ghost(UserId("@remote_bob:hs.test"), "hs.test", log, clock);
    const RoomId room("!r:hs.test");
    ghost.join(room);
    ghost.sendMessage(room, OutgoingMessage{.body = "hi", .html = "<b>hi</b>"}, RemoteMessageId("m1"));
    bot.setTopic(room, "news");
    ghost.setPowerLevels(room, {{UserId("@remote_bob:hs.test"), 50}});

    std::vector<IntentAction> all = log.all();
    REQUIRE(all.size() == 4);
    CHECK(all[0].op == "join");
    CHECK(all[1].actor == UserId("@remote_bob:hs.test"));
    CHECK(all[1].text == "hi");
    CHECK(all[1].message->html == std::optional<std::string>("<b>hi</b>"));
    CHECK(all[1].remoteId == RemoteMessageId("m1"));
    CHECK(all[2].actor == UserId("@bot:hs.test"));
    CHECK(all[2].text == "news");
    CHECK(all[3].levels.at(UserId("@remote_bob:hs.test")) == 50);
    CHECK(log.ofOp("setTopic").size() == 1);
}

TEST_CASE("createRoom and uploadMedia answer only when the test advances the clock") {
    ManualClock clock;
    IntentLog log;
    RecordingIntent bot(UserId("@bot:hs.test"), "hs.test", log, clock);
    std::optional<Result<RoomId>> created;
    std::optional<Result<std::string>> uploaded, downloaded;
    bot.createRoom(RoomCreation{.name = "Portal"}, [&](Result<RoomId> r) { created = std::move(r); });
    bot.uploadMedia("PNG", "image/png", "a.png", [&](Result<std::string> r) { uploaded = std::move(r); });
    CHECK_FALSE(created);
    CHECK_FALSE(uploaded);
    CHECK(log.ofOp("createRoom").at(0).creation->name == "Portal");

    clock.runDue();
    REQUIRE(created);
    REQUIRE(created->ok());
    CHECK(created->value() == RoomId("!room1:hs.test"));
    REQUIRE(uploaded);
    REQUIRE(uploaded->ok());
    bot.downloadMedia(uploaded->value(), [&](Result<std::string> r) { downloaded = std::move(r); });
    clock.runDue();
    REQUIRE(downloaded);
    CHECK(downloaded->value() == "PNG");
}

TEST_CASE("a failure set with failNext is the next deferred answer, then answers succeed again") {
    ManualClock clock;
    IntentLog log;
    RecordingIntent bot(UserId("@bot:hs.test"), "hs.test", log, clock);
    log.failNext(Error::transient("M_LIMIT_EXCEEDED", "slow down"));
    std::vector<bool> oks;
    for (int i = 0; i < 2; ++i) bot.createRoom(RoomCreation{}, [&](Result<RoomId> r) { oks.push_back(r.ok()); });
    std::optional<Result<std::string>> missing;
    bot.downloadMedia("mxc://hs.test/none", [&](Result<std::string> r) { missing = std::move(r); });
    clock.runDue();
    CHECK(oks == std::vector<bool>{false, true});
    REQUIRE(missing);
    CHECK(missing->error().code == "M_NOT_FOUND");
}
