// An out-of-tree connector and its unit test, using only the installed headers and
// mxbridge::testing: a bridge that shouts every message back, and repeats the last one
// after a minute of silence.
#include <cstdio>
#include <cctype>

#include <mxbridge/connector.h>
#include <mxbridge/testing/fake_bridge_context.h>

using namespace mxbridge;

class ShoutConnector final : public Connector {
public:
    BridgeInfo info() const override { return BridgeInfo{.name = "shout"}; }
    void start(BridgeContext& context) override { ctx_ = &context; }
    HookResult onMatrixMessage(const MatrixMessage& message) override {
        std::string loud = message.body;
        for (char& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (const RemoteRoomId& remote : message.remotes) {
            ctx_->queueRemote(RemoteMessage{.portal = {.id = remote}, .body = loud});
            again_ = ctx_->after(std::chrono::minutes(1), [this, remote, loud] {
                ctx_->queueRemote(RemoteMessage{.portal = {.id = remote}, .body = loud + "!"});
            });
        }
        return HookResult::delivered();
    }

private:
    BridgeContext* ctx_ = nullptr;
    TimerHandle again_;
};

static int failures = 0;
static void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}

int main() {
    testing::FakeBridgeContext ctx;
    ShoutConnector connector;
    connector.start(ctx);
    MatrixEvent event = MatrixEvent::fromJson(EventSource::Timeline,
        R"({"type":"m.room.message","event_id":"$1","room_id":"!r:hs.test","sender":"@a:hs.test",)"
        R"("content":{"msgtype":"m.text","body":"hello"}})");
    HookResult result = connector.onMatrixMessage(MatrixMessage{
        .event = event, .room = RoomId("!r:hs.test"), .remotes = {RemoteRoomId("shout/x")},
        .sender = UserId("@a:hs.test"), .body = "hello"});
    check(result.kind() == HookResult::Kind::Delivered, "the message is delivered");
    auto sent = ctx.remoteEventsOf<RemoteMessage>();
    check(sent.size() == 1 && sent[0].body == "HELLO", "the message is shouted back at once");
    ctx.clock().advance(std::chrono::seconds(59));
    check(ctx.remoteEventsOf<RemoteMessage>().size() == 1, "nothing repeats before a minute");
    ctx.clock().advance(std::chrono::seconds(1));
    sent = ctx.remoteEventsOf<RemoteMessage>();
    check(sent.size() == 2 && sent[1].body == "HELLO!", "the message repeats after a minute");
    std::printf(failures ? "%d check(s) failed\n" : "the out-of-tree connector test passed\n", failures);
    return failures ? 1 : 0;
}
