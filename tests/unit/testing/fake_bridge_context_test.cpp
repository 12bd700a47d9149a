// FakeBridgeContext: what a connector asks of the framework is recorded, not sent anywhere.
#include <doctest/doctest.h>

#include "mxbridge/testing/fake_bridge_context.h"

using namespace mxbridge;
using namespace mxbridge::testing;
using namespace std::chrono_literals;

TEST_CASE("queueRemote and reportDeliveryFailure calls are recorded in order") {
    FakeBridgeContext ctx;
    ctx.queueRemote(RemoteTyping{.room = RemoteRoomId("net/#x"), .sender = {}, .typing = true});
    ctx.queueRemote(RemoteMessage{.portal = {.id = RemoteRoomId("net/#x")}, .body = "hello"});
    ctx.reportDeliveryFailure(RoomId("!r:hs.test"), EventId("$e"),
                              Error::permanent("remote_refused", "the channel is moderated"));
    CHECK(ctx.remoteEvents().size() == 2);
    REQUIRE(ctx.remoteEventsOf<RemoteMessage>().size() == 1);
    CHECK(ctx.remoteEventsOf<RemoteMessage>()[0].body == "hello");
    REQUIRE(ctx.deliveryFailures().size() == 1);
    CHECK(ctx.deliveryFailures()[0].event == EventId("$e"));
    CHECK(ctx.deliveryFailures()[0].error.message == "the channel is moderated");
    ctx.clearRecords();
    CHECK(ctx.remoteEvents().empty());
    CHECK(ctx.deliveryFailures().empty());
}

TEST_CASE("what a bridge tells a user in their DM is recorded in order, and cleared with the records") {
    FakeBridgeContext ctx;
    ctx.tellUser(UserId("@carol:hs.test"), "bob invited you to #tea");
    ctx.tellUser(UserId("@dave:hs.test"), "could not join #cafe");
    REQUIRE(ctx.toldUsers().size() == 2);
    CHECK(ctx.toldUsers()[0] == std::pair{UserId("@carol:hs.test"), std::string("bob invited you to #tea")});
    CHECK(ctx.toldUsers()[1].first == UserId("@dave:hs.test"));
    ctx.clearRecords();
    CHECK(ctx.toldUsers().empty());
}

TEST_CASE("reportState calls are recorded in order, and the last state per subject is at hand") {
    FakeBridgeContext ctx;
    const UserId alice("@alice:hs.test");
    ctx.reportState({.network = "libera", .owner = {}, .loginId = {}}, {.state = RemoteState::Connecting, .reason = {}, .code = {}});
    ctx.reportState({.network = "libera", .owner = alice, .loginId = "a1"},
                    {.state = RemoteState::BadCredentials, .reason = "SASL failed", .code = "sasl_failed"});
    ctx.reportState({.network = "libera", .owner = {}, .loginId = {}}, {.state = RemoteState::Connected, .reason = {}, .code = {}});
    REQUIRE(ctx.reportedStates().size() == 3);
    CHECK(ctx.reportedStates()[0].status.state == RemoteState::Connecting);
    CHECK(ctx.lastState("libera")->state == RemoteState::Connected);
    REQUIRE(ctx.lastState("libera", alice, "a1"));
    CHECK(ctx.lastState("libera", alice, "a1")->code == "sasl_failed");
    CHECK_FALSE(ctx.lastState("oftc"));
    CHECK_FALSE(ctx.lastState("libera", alice));  // the login has an id; "" is another login
    ctx.clearRecords();
    CHECK(ctx.reportedStates().empty());
}

TEST_CASE("ghost ids are escaped as the framework escapes them and recognised as ghosts") {
    FakeBridgeContext ctx({.serverName = "example.org", .userTemplate = "irc_{id}"});
    CHECK(ctx.ghostUserId("Alice") == UserId("@irc__alice:example.org"));
    CHECK(ctx.ghostUserId("#chan") == UserId("@irc_=23chan:example.org"));
    CHECK(ctx.isGhost(ctx.ghostUserId("bob")));
    CHECK_FALSE(ctx.isGhost(ctx.botUserId()));
    CHECK_FALSE(ctx.isGhost(UserId("@alice:example.org")));
    CHECK_FALSE(ctx.isGhost(UserId("@irc_bob:elsewhere.org")));
}

TEST_CASE("the bridge section is read with the framework's typed getters and their errors") {
    FakeBridgeContext ctx({.config = {{"prefix", "> "}, {"limit", "many"}}});
    CHECK(ctx.config().getString("prefix", "") == "> ");
    CHECK(ctx.config().getString("absent", "d") == "d");
    CHECK_THROWS_AS(ctx.config().getInt("limit", 1, 0, 10), ConfigError);
}

TEST_CASE("the same user always gets the same intent, and the bot acts as the bot user") {
    FakeBridgeContext ctx;
    Intent& ghost = ctx.intent(UserId("@remote_bob:hs.test"));
    CHECK(&ghost == &ctx.intent(UserId("@remote_bob:hs.test")));
    ctx.bot().join(RoomId("!r:hs.test"));
    ghost.leave(RoomId("!r:hs.test"), "bye");
    std::vector<IntentAction> actions = ctx.intentLog().all();
    REQUIRE(actions.size() == 2);
    CHECK(actions[0].actor == ctx.botUserId());
    CHECK(actions[1].op == "leave");
    CHECK(actions[1].text == "bye");
}

TEST_CASE("a registered command runs through the bot's parser, permissions and help") {
    FakeBridgeContext ctx({.bridgeName = "net"});
    std::vector<std::string> seen;
    ctx.commands().add(Command{.name = "join", .syntax = "<#channel>", .help = "join a channel",
                               .minArgs = 1, .run = [&](CommandCall& call) {
                                   seen = call.args;
                                   call.reply("joining " + call.args[0]);
                               }});
    ctx.commands().add(Command{.name = "restart", .help = "restart the network",
                               .permission = Permission::Admin,
                               .run = [](CommandCall& call) { call.reply("restarting"); }});
    REQUIRE(ctx.commandRegistry().registered().size() == 2);
    CHECK(ctx.commandRegistry().find("join")->syntax == "<#channel>");

    CHECK(ctx.commandRegistry().run("!join \"#a b\"") == std::vector<std::string>{"joining #a b"});
    CHECK(seen == std::vector<std::string>{"#a b"});
    std::vector<std::string> refused = ctx.commandRegistry().run("!restart");
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].find("restarting") == std::string::npos);
    CHECK(ctx.commandRegistry().run("!restart", {.isAdmin = true}) == std::vector<std::string>{"restarting"});
    std::vector<std::string> help = ctx.commandRegistry().run("!help");
    REQUIRE(help.size() == 1);
    CHECK(help[0].find("join a channel") != std::string::npos);
    CHECK(ctx.commandRegistry().run("not a command").empty());
}

TEST_CASE("every and after fire only when the test advances the context's clock") {
    FakeBridgeContext ctx;
    int pings = 0;
    TimerHandle ping = ctx.every(30s, [&] { ++pings; });
    bool timedOut = false;
    TimerHandle timeout = ctx.after(90s, [&] { timedOut = true; });
    ctx.clock().advance(60s);
    CHECK(pings == 2);
    CHECK_FALSE(timedOut);
    ctx.clock().advance(30s);
    CHECK(pings == 3);
    CHECK(timedOut);
}

namespace {

// A connector's remote clients as a bridge with logins writes them: one per login.
struct CountingClient final : RemoteClient {
    explicit CountingClient(RemoteClientHandle h) : handle(std::move(h)) {}
    void connect() override { handle.report({.state = RemoteState::Connected, .reason = {}, .code = {}}); }
    void disconnect() override { ++disconnects; }
    RemoteClientHandle handle;
    int disconnects = 0;
};

struct CountingLogins final : LoginHandler {
    std::vector<std::string> loginNetworks() const override { return {"net"}; }
    std::vector<LoginFlow> loginFlows(const std::string&) const override { return {}; }
    std::unique_ptr<LoginProcess> createLogin(const UserId&, const std::string&, const std::string&) override {
        return nullptr;
    }
    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override {
        made.push_back(login.remoteName);
        return std::make_unique<CountingClient>(std::move(handle));
    }
    std::vector<std::string> made;
};

}  // namespace

TEST_CASE("remote clients in the fake context: stored logins start, reports are recorded, idle ones are reaped") {
    FakeBridgeContext ctx({.loginIdleMinutes = 30});
    CountingLogins logins;
    ctx.enableLogins(logins);
    const UserId alice("@alice:hs.test");
    Login stored;
    stored.user = alice;
    stored.network = "net";
    stored.remoteName = "alice";
    ctx.users().saveLogin(stored);  // what the connector stored sits where the framework reads

    CHECK(ctx.startStoredLogins() == 1);
    CHECK(logins.made == std::vector<std::string>{"alice"});
    REQUIRE(ctx.lastState("net", alice));
    CHECK(ctx.lastState("net", alice)->state == RemoteState::Connected);
    auto client = ctx.remoteClients().find(LoginKey{alice, "net", ""});
    REQUIRE(client);

    ctx.clock().advance(31min);
    CHECK_FALSE(ctx.remoteClients().find(LoginKey{alice, "net", ""}));
    CHECK(dynamic_cast<CountingClient&>(*client).disconnects == 1);
    CHECK(ctx.lastState("net", alice)->state == RemoteState::Stopped);

    CHECK(ctx.logout(LoginKey{alice, "net", ""}));
    CHECK_FALSE(ctx.users().login(alice, "net"));
}
