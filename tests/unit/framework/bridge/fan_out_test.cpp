// forEachRemote: one answer from a hook that sent to every linked remote room.
#include <doctest/doctest.h>

#include <string>

#include "mxbridge/fan_out.h"

using namespace mxbridge;

namespace {

const std::vector<RemoteRoomId> kRooms{RemoteRoomId("net/#a"), RemoteRoomId("net/#b"), RemoteRoomId("other/#c")};

HookResult answerFor(const RemoteRoomId& room, const std::map<std::string, HookResult>& answers) {
    auto it = answers.find(room.str());
    return it == answers.end() ? HookResult::ignored() : it->second;
}

HookResult fanOut(const std::map<std::string, HookResult>& answers, std::vector<std::string>* asked = nullptr) {
    return forEachRemote(kRooms, [&](const RemoteRoomId& room) {
        if (asked) asked->push_back(room.str());
        return answerFor(room, answers);
    });
}

}  // namespace

TEST_CASE("every linked room is asked, in order, and no room at all is ignored") {
    std::vector<std::string> asked;
    CHECK(fanOut({}, &asked).kind() == HookResult::Kind::Ignored);
    CHECK(asked == std::vector<std::string>{"net/#a", "net/#b", "other/#c"});
    CHECK(forEachRemote({}, [](const RemoteRoomId&) { return HookResult::delivered(); }).kind() ==
          HookResult::Kind::Ignored);
}

TEST_CASE("a retryable failure in one room wins over a permanent one and a delivery elsewhere") {
    HookResult merged = fanOut({{"net/#a", HookResult::delivered(RemoteMessageId("1"))},
                                {"net/#b", HookResult::failed(Error::permanent("gone", "the channel is gone"))},
                                {"other/#c", HookResult::failed(Error::transient("offline", "reconnecting"))}});
    CHECK(merged.kind() == HookResult::Kind::Failed);
    CHECK(merged.error().retryable);
    CHECK(merged.error().message == "reconnecting");
}

TEST_CASE("a permanent failure is told even when another room took the event") {
    HookResult merged = fanOut({{"net/#a", HookResult::delivered()},
                                {"net/#b", HookResult::failed(Error::permanent("too_long", "first"))},
                                {"other/#c", HookResult::failed(Error::permanent("too_long", "second"))}});
    CHECK(merged.kind() == HookResult::Kind::Failed);
    CHECK(merged.error().message == "first");  // among equals, the first room's
}

TEST_CASE("unsupported in one room is told over a delivery in another; ignored rooms count for nothing") {
    CHECK(fanOut({{"net/#a", HookResult::delivered()}, {"net/#b", HookResult::unsupported("no reactions here")}})
              .kind() == HookResult::Kind::Unsupported);
    CHECK(fanOut({{"net/#b", HookResult::delivered()}}).kind() == HookResult::Kind::Delivered);
}

TEST_CASE("delivered keeps each room's own id, so edits and replies find the right line in each") {
    HookResult merged = fanOut({{"net/#a", HookResult::delivered(RemoteMessageId("a-1"))},
                                {"net/#b", HookResult::delivered()},
                                {"other/#c", HookResult::delivered(RemoteMessageId("c-9"))}});
    REQUIRE(merged.kind() == HookResult::Kind::Delivered);
    CHECK(merged.remoteId().empty());
    CHECK(merged.remoteIdsByRoom() == std::map<RemoteRoomId, RemoteMessageId>{
                                          {RemoteRoomId("net/#a"), RemoteMessageId("a-1")},
                                          {RemoteRoomId("other/#c"), RemoteMessageId("c-9")}});
    HookResult plain = fanOut({{"net/#a", HookResult::delivered()}});
    CHECK(plain.remoteIdsByRoom().empty());
}
