// The Slack bridge end to end in relay mode: the real `mxbridge` binary with
// `bridge: {type: slack}`, the homeserver double standing in for Matrix and the Slack double
// for Slack's Web API; Slack's Events API posts are signed and sent to the bridge's listener
// as Slack would send them.
#include <doctest/doctest.h>

#include <iostream>
#include <sstream>

#include "homeserver_double.h"
#include "mxbridge/slack/request_signature.h"
#include "mxbridge_run.h"
#include "ports.h"
#include "process.h"
#include "slack_double.h"
#include "socket_mode_double.h"
#include "temp_dir.h"
#include "test_http_server.h"

using namespace mxbridge::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kServer = "hs.test";
constexpr const char* kSigningSecret = "signing-secret-for-slack-tests";
constexpr const char* kChannel = "C0CHAN001";
constexpr const char* kAlice = "@alice:hs.test";
constexpr const char* kProvisioningSecret = "provisioning-secret-for-slack-tests";
const std::string kAvatarBytes = std::string("\x89PNG\r\n\x1a\n", 8) + "alice's avatar";

enum class Transport { EventsApi, SocketMode };

class SlackBridge {
public:
    explicit SlackBridge(SlackDoubleOptions slackOptions = {}, Transport transport = Transport::EventsApi)
        : slack_(std::move(slackOptions)), transport_(transport) {
        slack_.serveSocketMode([this] { return sockets_.nextUrl(); });
        port_ = freePort();
        HomeserverConfig c;
        c.serverName = kServer;
        c.senderLocalpart = "slackbot";
        c.appserviceUrl = url();
        c.userNamespaceRegex = "@slack_.*:hs\\.test";
        c.retryInitial = 50ms;
        c.retryMax = 400ms;
        hs_ = std::make_unique<HomeserverDouble>(c);
        slack_.addChannel(kChannel, "general");
        slack_.addUser({.id = "U0ALICE01", .name = "alice", .realName = "Alice Liddell", .displayName = "Alice",
                        .avatarUrl = slack_.addAvatar("alice_512.png", kAvatarBytes), .isBot = false});
        hs_->addUser(kAlice, Profile{.displayname = "Alice (Matrix)", .avatarUrl = std::nullopt});
        room_ = hs_->createRoom(kAlice, {{"preset", "public_chat"}, {"name", "general"}});
        hs_->forceJoin(room_, hs_->botUserId());
    }

    ~SlackBridge() {
        if (std::uncaught_exceptions() > 0 && bridge_) std::cerr << "--- mxbridge ---\n" << bridge_->lastLines(60) << "\n";
        stop();
    }

    void start() {
        std::ostringstream y;
        y << "homeserver:\n  url: " << hs_->url() << "\n  server_name: " << kServer
          << "\n  startup_timeout_seconds: 10\n"
          << "appservice:\n  id: mxbridge\n  bind_address: 127.0.0.1\n  port: " << port_
          << "\n  public_url: " << url() << "\n  registration_file: " << (dir_ / "registration.yaml").string()
          << "\n  as_token: " << hs_->config().asToken << "\n  hs_token: " << hs_->config().hsToken
          << "\n  bot_localpart: slackbot\n"
          << "database:\n  path: " << (dir_ / "mxbridge.db").string()
          << "\n  secret_key: 0123456789abcdef0123456789abcdef-slack-test-key\n"
          << "logging:\n  level: debug\n"
          << "provisioning:\n  enabled: true\n  shared_secret: " << kProvisioningSecret << "\n"
          << "bridge:\n  type: slack\n  bot_token: " << slack_.options().botToken
          << (transport_ == Transport::SocketMode ? "\n  app_token: " + slack_.options().appToken
                                                  : "\n  signing_secret: " + std::string(kSigningSecret))
          << "\n  api_url: " << slack_.apiUrl() << bridgeExtra
          << "\n  channels:\n    - {channel: " << kChannel << ", room: \"" << room_ << "\"}\n";
        bridge_ = runMxbridge(MXBRIDGE_CLI_PATH, dir_.path(), y.str(), ++starts_);
    }
    void stop() {
        if (bridge_) bridge_->terminate(10s);
        bridge_.reset();
    }
    void kill9() {
        if (bridge_) bridge_->kill9();
        bridge_.reset();
    }

    // More of the bridge section, e.g. "\n  relay_when_login_fails: false".
    std::string bridgeExtra;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    HomeserverDouble& hs() { return *hs_; }
    SlackDouble& slack() { return slack_; }
    SocketModeDouble& sockets() { return sockets_; }
    Process& bridge() { return *bridge_; }
    const std::string& room() const { return room_; }

    // What Slack delivers for `event`, over either transport.
    static nlohmann::json wrapper(const nlohmann::json& event, const std::string& eventId) {
        return {{"token", "unused-verification-token"}, {"team_id", "T0DOUBLE1"},
                {"api_app_id", "A0DOUBLE1"}, {"type", "event_callback"}, {"event_id", eventId},
                {"event_time", 1700000000}, {"event", event}};
    }

    // An Events API post as Slack makes it, signed `age` ago with `secret`.
    HttpCallResult deliver(const nlohmann::json& event, const std::string& eventId, int retryNum = 0,
                           std::chrono::seconds age = 0s, const std::string& secret = kSigningSecret) {
        std::string text = wrapper(event, eventId).dump();
        auto signedAt = std::chrono::system_clock::now() - age;
        std::string timestamp =
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(signedAt.time_since_epoch()).count());
        StringMap headers = {{"Content-Type", "application/json"},
                             {"X-Slack-Request-Timestamp", timestamp},
                             {"X-Slack-Signature", mxbridge::slack::RequestVerifier(secret).sign(timestamp, text)}};
        if (retryNum > 0) {
            headers["X-Slack-Retry-Num"] = std::to_string(retryNum);
            headers["X-Slack-Retry-Reason"] = "http_timeout";
        }
        return httpCall(url(), "POST", "/_mxbridge/webhook/slack/events", headers, text, 5s);
    }

    // The bridge's log line holding `text`, waited for (it may come before "bridge is
    // running"); empty on time-out.
    std::string logLine(const std::string& text) {
        std::string found;
        hs_->waitFor([&] {
            std::istringstream lines(bridge_->lastLines(400));
            for (std::string line; std::getline(lines, line);)
                if (line.find(text) != std::string::npos) found = line;
            return !found.empty();
        }, 15s);
        return found;
    }

    // A direct chat of `user` with the bridge bot, once the bot has joined it.
    std::string botDm(const std::string& user) {
        std::string dm = hs_->createRoom(user, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                                {"invite", nlohmann::json::array({hs_->botUserId()})}});
        REQUIRE(hs_->waitFor([&] { return hs_->members(dm)[hs_->botUserId()] == "join"; }, 10s));
        return dm;
    }

    // Sends `command` in `dm` and returns the bot's next notice there.
    std::string command(const std::string& dm, const std::string& command) {
        auto notices = [&] {
            std::vector<std::string> bodies;
            for (const auto& e : hs_->timeline(dm))
                if (e.value("sender", "") == hs_->botUserId() && e["content"].value("msgtype", "") == "m.notice")
                    bodies.push_back(e["content"].value("body", ""));
            return bodies;
        };
        std::size_t seen = notices().size();
        hs_->sendAsUser(dm, kAlice, {{"msgtype", "m.text"}, {"body", command}});
        REQUIRE(hs_->waitFor([&] { return notices().size() > seen; }, 15s));
        return notices().at(seen);
    }

    // Timeline events of the room from `sender` whose body is `body`.
    std::vector<nlohmann::json> messages(const std::string& sender, const std::string& body) {
        std::vector<nlohmann::json> out;
        for (const auto& e : hs_->timeline(room_))
            if (e.value("type", "") == "m.room.message" && e.value("sender", "") == sender &&
                e["content"].value("body", "") == body)
                out.push_back(e);
        return out;
    }

private:
    SocketModeDouble sockets_;
    SlackDouble slack_;
    Transport transport_;
    std::unique_ptr<HomeserverDouble> hs_;
    std::unique_ptr<Process> bridge_;
    TempDir dir_{"mxbridge-slack-it"};
    std::uint16_t port_ = 0;
    std::string room_;
    int starts_ = 0;
};

const std::string kAliceGhost = "@slack_u0alice01:hs.test";

nlohmann::json slackMessage(const std::string& text, const std::string& ts) {
    return {{"type", "message"}, {"channel", kChannel}, {"user", "U0ALICE01"}, {"text", text}, {"ts", ts},
            {"team", "T0DOUBLE1"}};
}

}  // namespace

TEST_CASE("a Slack message reaches the linked room from its sender's ghost, once however often Slack redelivers it") {
    SlackBridge f;
    f.start();
    auto first = f.deliver(slackMessage("hi &lt;3 from <#C0CHAN001|general>", "1700000000.000100"), "Ev0MSG0001");
    CHECK(first.status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "hi <3 from #general").empty(); }, 15s));
    CHECK(f.hs().profile(kAliceGhost).displayname.value_or("") == "Alice");
    // Her Slack avatar, uploaded to Matrix, is the ghost's.
    REQUIRE(f.hs().waitFor([&] { return f.hs().profile(kAliceGhost).avatarUrl.has_value(); }, 15s));
    CHECK(f.hs().media(*f.hs().profile(kAliceGhost).avatarUrl) == kAvatarBytes);
    // She renames herself on Slack: the ghost follows.
    f.slack().addUser({.id = "U0ALICE01", .name = "alice", .realName = "Alice Liddell", .displayName = "Alice L.",
                       .avatarUrl = f.slack().addAvatar("alice_512.png", kAvatarBytes), .isBot = false});
    CHECK(f.deliver({{"type", "user_change"},
                     {"user", {{"id", "U0ALICE01"}, {"name", "alice"}, {"profile", {{"display_name", "Alice L."}}}}}},
                    "Ev0USER001")
              .status == 200);
    REQUIRE(f.hs().waitFor([&] { return f.hs().profile(kAliceGhost).displayname.value_or("") == "Alice L."; }, 15s));
    for (int retry = 1; retry <= 3; ++retry)
        CHECK(f.deliver(slackMessage("hi &lt;3 from <#C0CHAN001|general>", "1700000000.000100"), "Ev0MSG0001", retry)
                  .status == 200);
    // A later message shows the redeliveries were handled before it, and none was bridged.
    CHECK(f.deliver(slackMessage("second", "1700000000.000200"), "Ev0MSG0002").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "second").empty(); }, 15s));
    CHECK(f.messages(kAliceGhost, "hi <3 from #general").size() == 1);
    CHECK(f.slack().violations().empty());
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("forged and stale Events API posts are refused with 401 and nothing is bridged") {
    SlackBridge f;
    f.start();
    CHECK(f.deliver(slackMessage("forged", "1700000000.000300"), "Ev0FORGED1", 0, 0s, "a-guessed-secret").status == 401);
    CHECK(f.deliver(slackMessage("replayed", "1700000000.000400"), "Ev0STALE01", 0, 6min).status == 401);
    CHECK(f.deliver(slackMessage("genuine", "1700000000.000500"), "Ev0GENUIN1").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "genuine").empty(); }, 15s));
    CHECK(f.messages(kAliceGhost, "forged").empty());
    CHECK(f.messages(kAliceGhost, "replayed").empty());
}

TEST_CASE("a Matrix message is posted to the channel under its sender's name, and its edit and deletion follow") {
    SlackBridge f;
    f.start();
    std::string event = f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "hello <!channel> & all"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    auto post = f.slack().posts().at(0);
    CHECK(post.channel == kChannel);
    CHECK(post.text == "hello &lt;!channel&gt; &amp; all");  // read on Slack as typed, notifying nobody
    CHECK(post.username == "Alice (Matrix)");
    f.hs().sendAsUser(f.room(), kAlice,
                      {{"msgtype", "m.text"}, {"body", "* hello all"},
                       {"m.new_content", {{"msgtype", "m.text"}, {"body", "hello all"}}},
                       {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", event}}}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().at(0).text == "hello all"; }, 15s));
    f.hs().sendAsUser(f.room(), kAlice, {{"redacts", event}}, "m.room.redaction");
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().at(0).deleted; }, 15s));
    CHECK(f.slack().posts().size() == 1);
    CHECK(f.slack().violations().empty());
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("a Slack edit and a Slack deletion change the bridged message in Matrix") {
    SlackBridge f;
    f.start();
    // The homeserver answers the ghost's send only after Slack has already edited the line:
    // the edit still finds the Matrix event it changes.
    f.hs().setAnswerDelay("sendMessage", 1500ms);
    CHECK(f.deliver(slackMessage("teh typo", "1700000000.000600"), "Ev0EDIT001").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "teh typo").empty(); }, 15s));
    std::string original = f.messages(kAliceGhost, "teh typo").at(0).value("event_id", "");
    nlohmann::json changed = {{"type", "message"}, {"subtype", "message_changed"}, {"channel", kChannel},
                              {"message", {{"type", "message"}, {"user", "U0ALICE01"}, {"text", "the typo"},
                                           {"ts", "1700000000.000600"}}},
                              {"previous_message", {{"type", "message"}, {"user", "U0ALICE01"}, {"text", "teh typo"},
                                                    {"ts", "1700000000.000600"}}},
                              {"ts", "1700000001.000000"}};
    CHECK(f.deliver(changed, "Ev0EDIT002").status == 200);
    auto isEdit = [&](const nlohmann::json& e) {
        const auto& content = e.value("content", nlohmann::json::object());
        return content.value("m.relates_to", nlohmann::json::object()).value("event_id", "") == original &&
               content.value("m.new_content", nlohmann::json::object()).value("body", "") == "the typo";
    };
    REQUIRE(f.hs().waitFor([&] {
        for (const auto& e : f.hs().timeline(f.room())) if (isEdit(e)) return true;
        return false;
    }, 15s));
    f.hs().setAnswerDelay("sendMessage", 0ms);
    nlohmann::json deleted = {{"type", "message"}, {"subtype", "message_deleted"}, {"channel", kChannel},
                              {"deleted_ts", "1700000000.000600"},
                              {"previous_message", {{"type", "message"}, {"user", "U0ALICE01"}, {"text", "the typo"},
                                                    {"ts", "1700000000.000600"}}},
                              {"ts", "1700000002.000000"}};
    CHECK(f.deliver(deleted, "Ev0EDIT003").status == 200);
    REQUIRE(f.hs().waitFor([&] {
        for (const auto& e : f.hs().timeline(f.room()))
            if (e.value("type", "") == "m.room.redaction" && e.value("redacts", "") == original) return true;
        return false;
    }, 15s));
}

TEST_CASE("with a revoked token the log says so at start and a Matrix sender is told their message did not reach Slack") {
    SlackBridge f;
    f.slack().revokeToken();
    f.start();
    CHECK(f.logLine("Slack refused the bot token").find("token_revoked") != std::string::npos);
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "anyone there?"}});
    REQUIRE(f.hs().waitFor([&] {
        for (const auto& e : f.hs().timeline(f.room()))
            if (e.value("sender", "") == f.hs().botUserId() &&
                e["content"].value("body", "").find("revoked") != std::string::npos)
                return true;
        return false;
    }, 15s));
    CHECK(f.slack().posts().empty());
}

TEST_CASE("a token without a scope relay mode needs is named at start") {
    SlackDoubleOptions options;
    options.botScopes = {"chat:write", "users:read", "channels:read", "channels:history"};
    SlackBridge f(options);
    f.start();
    CHECK(f.logLine("lacks scopes").find("chat:write.customize") != std::string::npos);
}

TEST_CASE("an event Slack got 200 for is bridged after a kill -9, once") {
    SlackBridge f;
    // The ghost's name cannot be looked up for 30 s: the event stays stored, not bridged.
    f.slack().rateLimit("users.info", 1, 30);
    f.start();
    CHECK(f.deliver(slackMessage("survives a crash", "1700000000.000700"), "Ev0CRASH01").status == 200);
    REQUIRE(f.hs().waitFor([&] { return f.slack().callCount("users.info") == 1; }, 15s));
    f.kill9();
    f.start();
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "survives a crash").empty(); }, 15s));
    CHECK(f.deliver(slackMessage("survives a crash", "1700000000.000700"), "Ev0CRASH01", 1).status == 200);
    CHECK(f.deliver(slackMessage("after", "1700000000.000800"), "Ev0CRASH02").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "after").empty(); }, 15s));
    CHECK(f.messages(kAliceGhost, "survives a crash").size() == 1);
}

TEST_CASE("Socket Mode: an envelope is bridged and acknowledged, a redelivered one acknowledged and not bridged again") {
    SlackBridge f({}, Transport::SocketMode);
    f.start();
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpen() == 1; }));
    std::string first = f.sockets().sendEvent(SlackBridge::wrapper(slackMessage("over the socket", "1700000001.000100"), "Ev0SOCK001"));
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "over the socket").empty(); }, 15s));
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().acks().size() == 1; }));
    std::string again = f.sockets().sendEvent(SlackBridge::wrapper(slackMessage("over the socket", "1700000001.000100"), "Ev0SOCK001"), 1);
    std::string next = f.sockets().sendEvent(SlackBridge::wrapper(slackMessage("next", "1700000001.000200"), "Ev0SOCK002"));
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "next").empty(); }, 15s));
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().acks().size() == 3; }));
    CHECK(f.sockets().acks() == std::vector<std::string>{first, again, next});
    CHECK(f.messages(kAliceGhost, "over the socket").size() == 1);
    CHECK(f.sockets().unexpected().empty());
    CHECK(f.slack().violations().empty());
}

TEST_CASE("Socket Mode: after a disconnect warning the next socket opens before the old one closes; a dropped one is replaced") {
    SlackBridge f({}, Transport::SocketMode);
    f.start();
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpen() == 1; }));
    CHECK(f.sockets().send({{"type", "disconnect"}, {"reason", "warning"}, {"debug_info", {{"host", "double"}}}}));
    // A second socket (a new apps.connections.open ticket) comes up, then the first is closed.
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpened() == 2; }));
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpen() == 1; }));
    CHECK(f.slack().callCount("apps.connections.open") == 2);
    f.sockets().sendEvent(SlackBridge::wrapper(slackMessage("after the refresh", "1700000002.000100"), "Ev0SOCK003"));
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "after the refresh").empty(); }, 15s));

    f.sockets().dropNewest();
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpened() == 3; }, 15s));
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpen() == 1; }));
    f.sockets().sendEvent(SlackBridge::wrapper(slackMessage("after the drop", "1700000002.000200"), "Ev0SOCK004"));
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "after the drop").empty(); }, 15s));
    CHECK(f.slack().violations().empty());
}

TEST_CASE("formatting crosses both ways: rich_text to HTML, HTML to mrkdwn with a ghost's pill as a mention") {
    SlackBridge f;
    f.start();
    nlohmann::json message = slackMessage("*ship it* <@U0ALICE01>", "1700000003.000100");
    message["blocks"] = nlohmann::json::array(
        {{{"type", "rich_text"}, {"block_id", "b1"},
          {"elements", {{{"type", "rich_text_section"},
                         {"elements", {{{"type", "text"}, {"text", "ship it"}, {"style", {{"bold", true}}}},
                                       {{"type", "text"}, {"text", " "}},
                                       {{"type", "user"}, {"user_id", "U0ALICE01"}}}}}}}}});
    CHECK(f.deliver(message, "Ev0FMT0001").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "*ship it* @Alice").empty(); }, 15s));
    nlohmann::json content = f.messages(kAliceGhost, "*ship it* @Alice").at(0)["content"];
    CHECK(content.value("format", "") == "org.matrix.custom.html");
    CHECK(content.value("formatted_body", "") ==
          "<b>ship it</b> <a href=\"https://matrix.to/#/@slack_u0alice01:hs.test\">Alice</a>");

    f.hs().sendAsUser(f.room(), kAlice,
                      {{"msgtype", "m.text"},
                       {"body", "Alice: done & <dusted>"},
                       {"format", "org.matrix.custom.html"},
                       {"formatted_body", "<a href=\"https://matrix.to/#/@slack_u0alice01:hs.test\">Alice</a>: "
                                          "<i>done</i> &amp; <code>&lt;dusted&gt;</code>"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    CHECK(f.slack().posts().at(0).text == "<@U0ALICE01>: _done_ &amp; `&lt;dusted&gt;`");
    CHECK(f.slack().violations().empty());
}

TEST_CASE("threads: a Slack thread reply is a Matrix reply to its root; a Matrix reply goes into the Slack thread") {
    SlackBridge f;
    f.start();
    CHECK(f.deliver(slackMessage("root", "1700000004.000100"), "Ev0THR0001").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "root").empty(); }, 15s));
    nlohmann::json inThread = slackMessage("in the thread", "1700000004.000200");
    inThread["thread_ts"] = "1700000004.000100";
    CHECK(f.deliver(inThread, "Ev0THR0002").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "in the thread").empty(); }, 15s));
    std::string root = f.messages(kAliceGhost, "root").at(0).value("event_id", "");
    nlohmann::json reply = f.messages(kAliceGhost, "in the thread").at(0);
    CHECK(reply["content"]["m.relates_to"]["m.in_reply_to"].value("event_id", "") == root);

    // Answering the thread reply joins the thread (its root), not a thread of its own.
    std::string replyId = reply.value("event_id", "");
    f.hs().sendAsUser(f.room(), kAlice,
                      {{"msgtype", "m.text"}, {"body", "me too"},
                       {"m.relates_to", {{"m.in_reply_to", {{"event_id", replyId}}}}}});
    f.hs().sendAsUser(f.room(), kAlice,
                      {{"msgtype", "m.text"}, {"body", "on the root"},
                       {"m.relates_to", {{"m.in_reply_to", {{"event_id", root}}}}}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 2; }, 15s));
    CHECK(f.slack().posts().at(0).text == "me too");
    CHECK(f.slack().posts().at(0).threadTs == "1700000004.000100");
    CHECK(f.slack().posts().at(1).threadTs == "1700000004.000100");
    CHECK(f.slack().violations().empty());
}

TEST_CASE("!slack-status says how the connection is doing; !link links a channel the app can see and refuses others") {
    SlackBridge f({}, Transport::SocketMode);
    f.slack().addChannel("C0CHAN002", "random");
    f.start();
    REQUIRE(f.sockets().waitFor([&] { return f.sockets().connectionsOpen() == 1; }));
    std::string dm = f.botDm(kAlice);
    std::string status = f.command(dm, "!slack-status");
    CHECK(status.find("workspace Double Workspace (T0DOUBLE1)") != std::string::npos);
    CHECK(status.find("Socket Mode: connected") != std::string::npos);
    CHECK(status.find("Linked channels: 1") != std::string::npos);

    std::string other = f.hs().createRoom(kAlice, {{"preset", "public_chat"}, {"name", "random"}});
    f.hs().forceJoin(other, f.hs().botUserId());
    CHECK(f.command(dm, "!link " + other + " C0CHAN002") == "Linked #random (C0CHAN002) to " + other + ".");
    CHECK(f.command(dm, "!link " + other + " C0NOPE001").find(
              "Cannot link C0NOPE001: the Slack channel does not exist or the app cannot see it") != std::string::npos);
    CHECK(f.command(dm, "!slack-status").find("Linked channels: 2") != std::string::npos);
    f.sockets().sendEvent(SlackBridge::wrapper(
        {{"type", "message"}, {"channel", "C0CHAN002"}, {"user", "U0ALICE01"}, {"text", "in random"}, {"ts", "1700000005.000100"}},
        "Ev0LINK001"));
    REQUIRE(f.hs().waitFor([&] {
        for (const auto& e : f.hs().timeline(other))
            if (e["content"].value("body", "") == "in random") return true;
        return false;
    }, 15s));
    CHECK(f.slack().violations().empty());
}

TEST_CASE("a file shared on Slack arrives in Matrix as a file from the sender's ghost") {
    SlackBridge f;
    f.start();
    const std::string bytes = std::string("\x89PNG\r\n\x1a\n", 8) + "a cat";
    nlohmann::json shared = slackMessage("look", "1700000006.000100");
    shared["subtype"] = "file_share";
    shared["files"] = nlohmann::json::array({{{"id", "F0FILE0001"}, {"name", "cat.png"}, {"mimetype", "image/png"},
                                              {"size", bytes.size()}, {"url_private", f.slack().addFile("cat.png", bytes)}}});
    CHECK(f.deliver(shared, "Ev0FILE001").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "cat.png").empty(); }, 15s));
    CHECK(!f.messages(kAliceGhost, "look").empty());
    nlohmann::json content = f.messages(kAliceGhost, "cat.png").at(0)["content"];
    CHECK(content.value("msgtype", "") == "m.image");
    CHECK(f.hs().media(content.value("url", "")) == bytes);
    CHECK(f.slack().violations().empty());
}

TEST_CASE("without files:read a shared file is announced, not silently lost") {
    SlackDoubleOptions options;
    options.botScopes = {"chat:write", "chat:write.customize", "users:read", "channels:read", "channels:history"};
    SlackBridge f(options);
    f.start();
    nlohmann::json shared = slackMessage("", "1700000007.000100");
    shared["subtype"] = "file_share";
    shared["files"] = nlohmann::json::array({{{"id", "F0FILE0002"}, {"name", "plan.pdf"}, {"mimetype", "application/pdf"},
                                              {"url_private", f.slack().addFile("plan.pdf", "%PDF-1.7")}}});
    CHECK(f.deliver(shared, "Ev0FILE002").status == 200);
    REQUIRE(f.hs().waitFor([&] {
        return !f.messages(kAliceGhost, "(a file, plan.pdf, could not be brought over from Slack)").empty();
    }, 15s));
    CHECK(f.logLine("lacks scopes").find("files:read") != std::string::npos);
}

TEST_CASE("a file sent from Matrix is uploaded to the channel the way new apps must (external upload)") {
    SlackBridge f;
    f.start();
    const std::string bytes = std::string("\x89PNG\r\n\x1a\n", 8) + "a matrix cat";
    std::string mxc = f.hs().addMedia(bytes, "image/png", "cat.png");
    f.hs().sendAsUser(f.room(), kAlice,
                      {{"msgtype", "m.image"}, {"body", "cat.png"}, {"url", mxc},
                       {"info", {{"mimetype", "image/png"}, {"size", bytes.size()}}}});
    REQUIRE(f.hs().waitFor([&] {
        auto uploads = f.slack().uploads();
        return !uploads.empty() && uploads[0].completed;
    }, 15s));
    auto upload = f.slack().uploads().at(0);
    CHECK(upload.bytes == bytes);
    CHECK(upload.filename == "cat.png");
    CHECK(upload.channel == kChannel);
    CHECK(upload.initialComment == "Alice (Matrix) sent cat.png");
    CHECK(f.slack().callCount("files.upload") == 0);
    CHECK(f.slack().violations().empty());
}

// --- Puppeting: Matrix users' own Slack logins -------------------------------------------------------

namespace {

constexpr const char* kAliceUserToken = "xoxp-1111-2222-alice-user-token";
constexpr const char* kAliceClientToken = "xoxc-3333-4444-alice-client-token";
constexpr const char* kAliceCookie = "xoxd-alice%2Fcookie%3D";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("!login slack takes a user token checked with auth.test; !status shows it; !logout forgets it") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write"}, .cookie = {}});
    f.slack().addUserToken({.token = "xoxp-5555-no-scopes", .userId = "U0ALICE01", .scopes = {"users:read"}, .cookie = {}});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);

    std::string asked = f.command(dm, "!login slack");
    CHECK_MESSAGE(has(asked, "Your Slack user token (xoxp-"), asked);
    std::string refused = f.command(dm, "xoxp-9999-not-a-real-token");
    CHECK_MESSAGE(has(refused, "Login failed: Slack refused the token: the Slack token is not valid"), refused);

    f.command(dm, "!login slack");
    std::string noScope = f.command(dm, "xoxp-5555-no-scopes");
    CHECK_MESSAGE(has(noScope, "lacks the user scope chat:write"), noScope);

    f.command(dm, "!login slack");
    std::string bot = f.command(dm, f.slack().options().botToken);
    CHECK_MESSAGE(has(bot, "That is a bot token"), bot);

    f.command(dm, "!login slack");
    std::string done = f.command(dm, kAliceUserToken);
    CHECK_MESSAGE(has(done, "Logged in to slack as alice"), done);
    std::string status;
    REQUIRE(f.hs().waitFor([&] {
        status = f.command(dm, "!status");
        return has(status, "slack: connected");
    }, 15s));
    std::string out = f.command(dm, "!logout");
    CHECK_MESSAGE(has(out, "Logged out of slack"), out);
    CHECK(has(f.command(dm, "!status"), "You have no logins"));
    // Secrets stay out of the log, and the answers holding them out of the chat.
    CHECK(f.bridge().lastLines(2000).find(kAliceUserToken) == std::string::npos);
    CHECK(f.bridge().lastLines(2000).find("xoxp-9999-not-a-real-token") == std::string::npos);
    CHECK(f.slack().violations().empty());
}

TEST_CASE("!login slack cookie takes the desktop client's token with its d cookie, and refuses it without") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceClientToken, .userId = "U0ALICE01", .scopes = {}, .cookie = kAliceCookie});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);

    f.command(dm, "!login slack cookie");
    f.command(dm, kAliceClientToken);
    std::string wrong = f.command(dm, "xoxd-someone-elses-cookie");
    CHECK_MESSAGE(has(wrong, "Slack refused the token"), wrong);
    CHECK_MESSAGE(has(wrong, "d cookie of the same browser session"), wrong);

    // A client token in the user-token flow is pointed at the right one.
    f.command(dm, "!login slack");
    CHECK(has(f.command(dm, kAliceClientToken), "!login slack cookie"));

    f.command(dm, "!login slack cookie");
    f.command(dm, kAliceClientToken);
    std::string done = f.command(dm, std::string("d=") + kAliceCookie + "; d-s=1700000000");
    CHECK_MESSAGE(has(done, "Logged in to slack as alice"), done);
    REQUIRE(f.hs().waitFor([&] { return has(f.command(dm, "!status"), "slack: connected"); }, 15s));
    // It is still there after a restart (stored, sealed), and still works.
    f.stop();
    f.start();
    REQUIRE(f.hs().waitFor([&] { return has(f.command(dm, "!status"), "slack: connected"); }, 15s));
    CHECK(f.bridge().lastLines(2000).find(kAliceCookie) == std::string::npos);
    CHECK(f.slack().violations().empty());
}

namespace {

constexpr const char* kBob = "@bob:hs.test";

void logAliceIn(SlackBridge& f, const std::string& dm) {
    f.command(dm, "!login slack");
    std::string done = f.command(dm, kAliceUserToken);
    REQUIRE_MESSAGE(has(done, "Logged in to slack as alice"), done);
}

// Notices of the bridge bot in `room` holding `part`.
bool botSaid(SlackBridge& f, const std::string& room, const std::string& part) {
    for (const auto& e : f.hs().timeline(room))
        if (e.value("sender", "") == f.hs().botUserId() && has(e["content"].value("body", ""), part)) return true;
    return false;
}

}  // namespace

TEST_CASE("a logged-in user's messages are theirs on Slack, not echoed back, and their edits and deletions follow; others are relayed") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write"}, .cookie = {}});
    f.hs().addUser(kBob, Profile{.displayname = "Bob", .avatarUrl = std::nullopt});
    f.hs().forceJoin(f.room(), kBob);
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);

    std::string event = f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "as myself"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    SlackPost mine = f.slack().posts().at(0);
    CHECK(mine.user == "U0ALICE01");
    CHECK(mine.username.empty());  // no "via the bridge" name: it is hers
    CHECK(mine.text == "as myself");
    // Slack delivers it back as her message: it started in Matrix and is not bridged again.
    CHECK(f.deliver(slackMessage("as myself", mine.ts), "Ev0PUP0001").status == 200);
    CHECK(f.deliver(slackMessage("typed on Slack", "1700000008.000100"), "Ev0PUP0002").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "typed on Slack").empty(); }, 15s));
    CHECK(f.messages(kAliceGhost, "as myself").empty());

    // Her edit and deletion are made with her token (Slack lets no one else change her post).
    f.hs().sendAsUser(f.room(), kAlice,
                      {{"msgtype", "m.text"}, {"body", "* as me"},
                       {"m.new_content", {{"msgtype", "m.text"}, {"body", "as me"}}},
                       {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", event}}}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().at(0).text == "as me"; }, 15s));
    nlohmann::json changed = {{"type", "message"}, {"subtype", "message_changed"}, {"channel", kChannel},
                              {"message", {{"type", "message"}, {"user", "U0ALICE01"}, {"text", "as me"}, {"ts", mine.ts}}},
                              {"ts", "1700000008.000200"}};
    CHECK(f.deliver(changed, "Ev0PUP0003").status == 200);
    f.hs().sendAsUser(f.room(), kAlice, {{"redacts", event}}, "m.room.redaction");
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().at(0).deleted; }, 15s));

    // Her /me is Slack's own /me.
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.emote"}, {"body", "waves"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 2; }, 15s));
    CHECK(f.slack().posts().at(1).me);
    CHECK(f.slack().posts().at(1).text == "waves");
    CHECK(f.slack().posts().at(1).user == "U0ALICE01");

    // Bob has no login: the app posts for him under his name.
    f.hs().sendAsUser(f.room(), kBob, {{"msgtype", "m.text"}, {"body", "relayed"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 3; }, 15s));
    CHECK(f.slack().posts().at(2).username == "Bob");
    CHECK(f.slack().posts().at(2).user == f.slack().options().botUserId);
    // Her Slack-side edit of the Matrix message never became a ghost's edit in Matrix.
    for (const auto& e : f.hs().timeline(f.room()))
        if (e.value("sender", "") == kAliceGhost)
            CHECK(e["content"].value("m.relates_to", nlohmann::json::object()).value("event_id", "") != event);
    CHECK(f.slack().violations().empty());
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("a revoked user token: the message is relayed and its sender told, the owner hears it in the DM, later ones are relayed") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write"}, .cookie = {}});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);
    REQUIRE(f.hs().waitFor([&] { return has(f.command(dm, "!status"), "slack: connected"); }, 15s));

    f.slack().revokeUserToken(kAliceUserToken, "token_revoked");
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "still here"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    CHECK(f.slack().posts().at(0).text == "still here");
    CHECK(f.slack().posts().at(0).username == "Alice (Matrix)");
    REQUIRE(f.hs().waitFor([&] { return botSaid(f, f.room(), "Slack refused your login (the Slack token was revoked"); }, 15s));
    REQUIRE(f.hs().waitFor([&] { return botSaid(f, dm, "Your Slack login on slack was refused by the network"); }, 15s));
    CHECK(has(f.command(dm, "!status"), "bad_credentials"));

    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "and again"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 2; }, 15s));
    CHECK(f.slack().posts().at(1).username == "Alice (Matrix)");
    CHECK(f.slack().violations().empty());
}

TEST_CASE("a user token found deactivated at start: the owner is told in the DM, and their messages are relayed") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write"}, .cookie = {}});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);
    f.stop();
    f.slack().revokeUserToken(kAliceUserToken, "account_inactive");
    f.start();
    REQUIRE(f.hs().waitFor([&] { return botSaid(f, dm, "the Slack account behind the token was deactivated"); }, 15s));
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "relayed now"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    CHECK(f.slack().posts().at(0).username == "Alice (Matrix)");
    CHECK(f.slack().violations().empty());
}

namespace {

nlohmann::json slackReaction(const std::string& type, const std::string& user, const std::string& name,
                             const std::string& ts) {
    return {{"type", type}, {"user", user}, {"reaction", name}, {"item_user", "U0ALICE01"},
            {"item", {{"type", "message"}, {"channel", kChannel}, {"ts", ts}}}, {"event_ts", "1700000009.000900"}};
}

nlohmann::json matrixReaction(const std::string& target, const std::string& key) {
    return {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", target}, {"key", key}}}};
}

}  // namespace

TEST_CASE("reactions cross both ways: Slack names as emoji, Matrix emoji as Slack names, as the user when logged in") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01",
                            .scopes = {"chat:write", "reactions:write"}, .cookie = {}});
    f.slack().addUser({.id = "U0CAROL01", .name = "carol", .realName = "Carol", .displayName = "Carol",
                       .avatarUrl = {}, .isBot = false});
    f.hs().addUser(kBob, Profile{.displayname = "Bob", .avatarUrl = std::nullopt});
    f.hs().forceJoin(f.room(), kBob);
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    const std::string ts = "1700000009.000100";
    CHECK(f.deliver(slackMessage("react to me", ts), "Ev0REACT01").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "react to me").empty(); }, 15s));
    std::string target = f.messages(kAliceGhost, "react to me").at(0).value("event_id", "");
    const std::string carolGhost = "@slack_u0carol01:hs.test";
    auto reactionsFrom = [&](const std::string& sender) {
        std::vector<nlohmann::json> out;
        for (const auto& e : f.hs().timeline(f.room()))
            if (e.value("type", "") == "m.reaction" && e.value("sender", "") == sender) out.push_back(e);
        return out;
    };

    // Slack to Matrix: Carol's 👍 (skin tone kept) and a workspace emoji by name; removing takes it back.
    CHECK(f.deliver(slackReaction("reaction_added", "U0CAROL01", "+1::skin-tone-3", ts), "Ev0REACT02").status == 200);
    CHECK(f.deliver(slackReaction("reaction_added", "U0CAROL01", "party-parrot", ts), "Ev0REACT03").status == 200);
    REQUIRE(f.hs().waitFor([&] { return reactionsFrom(carolGhost).size() == 2; }, 15s));
    nlohmann::json thumbs = reactionsFrom(carolGhost).at(0);
    CHECK(thumbs["content"]["m.relates_to"].value("key", "") == "👍🏼");
    CHECK(thumbs["content"]["m.relates_to"].value("event_id", "") == target);
    CHECK(reactionsFrom(carolGhost).at(1)["content"]["m.relates_to"].value("key", "") == ":party-parrot:");
    CHECK(f.deliver(slackReaction("reaction_removed", "U0CAROL01", "+1::skin-tone-3", ts), "Ev0REACT04").status == 200);
    REQUIRE(f.hs().waitFor([&] {
        for (const auto& e : f.hs().timeline(f.room()))
            if (e.value("type", "") == "m.room.redaction" && e.value("redacts", "") == thumbs.value("event_id", ""))
                return true;
        return false;
    }, 15s));

    // Matrix to Slack: Bob (no login) reacts through the app; Alice, logged in, as herself.
    f.hs().sendAsUser(f.room(), kBob, matrixReaction(target, "👍"), "m.reaction");
    REQUIRE(f.hs().waitFor([&] { return f.slack().reactions().size() == 1; }, 15s));
    CHECK(f.slack().reactions().at(0) ==
          SlackReaction{.channel = kChannel, .ts = ts, .user = f.slack().options().botUserId, .name = "+1"});
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);
    std::string heart = f.hs().sendAsUser(f.room(), kAlice, matrixReaction(target, "❤️"), "m.reaction");
    REQUIRE(f.hs().waitFor([&] { return f.slack().reactions().size() == 2; }, 15s));
    CHECK(f.slack().reactions().at(1) == SlackReaction{.channel = kChannel, .ts = ts, .user = "U0ALICE01", .name = "heart"});
    // Slack tells the bridge of both: neither comes back into Matrix.
    CHECK(f.deliver(slackReaction("reaction_added", f.slack().options().botUserId, "+1", ts), "Ev0REACT05").status == 200);
    CHECK(f.deliver(slackReaction("reaction_added", "U0ALICE01", "heart", ts), "Ev0REACT06").status == 200);
    CHECK(f.deliver(slackMessage("after the reactions", "1700000009.000200"), "Ev0REACT07").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "after the reactions").empty(); }, 15s));
    CHECK(reactionsFrom(kAliceGhost).empty());
    CHECK(reactionsFrom("@slack_u0botusr1:hs.test").empty());

    // Her redaction takes her reaction back on Slack, with her token.
    f.hs().sendAsUser(f.room(), kAlice, {{"redacts", heart}}, "m.room.redaction");
    REQUIRE(f.hs().waitFor([&] { return f.slack().reactions().size() == 1; }, 15s));
    CHECK(f.slack().reactions().at(0).user == f.slack().options().botUserId);

    // An emoji Slack has no name for here is told to its sender, not dropped silently.
    f.hs().sendAsUser(f.room(), kBob, matrixReaction(target, "🫠"), "m.reaction");
    REQUIRE(f.hs().waitFor([&] { return botSaid(f, f.room(), "Slack has no reaction the bridge knows for 🫠"); }, 15s));
    CHECK(f.slack().violations().empty());
    CHECK(f.hs().specViolations().empty());
}

TEST_CASE("a logged-in user's post whose event Slack delivers before answering the post is still not echoed back") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write"}, .cookie = {}});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);
    f.slack().delayAnswers("chat.postMessage", 1500ms);
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "raced"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    // The post is on Slack, its answer still on the way: Slack's event arrives first.
    CHECK(f.deliver(slackMessage("raced", f.slack().posts().at(0).ts), "Ev0RACE001").status == 200);
    CHECK(f.deliver(slackMessage("after the race", "1700000010.000100"), "Ev0RACE002").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "after the race").empty(); }, 15s));
    CHECK(f.messages(kAliceGhost, "raced").empty());
    CHECK(f.slack().violations().empty());
}

TEST_CASE("a logged-in user's file is uploaded with her token, without the bridge's comment, and its share is not echoed back") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write", "files:write"},
                            .cookie = {}});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);
    const std::string bytes = std::string("\x89PNG\r\n\x1a\n", 8) + "her own cat";
    std::string mxc = f.hs().addMedia(bytes, "image/png", "mine.png");
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.image"}, {"body", "mine.png"}, {"url", mxc},
                                         {"info", {{"mimetype", "image/png"}, {"size", bytes.size()}}}});
    REQUIRE(f.hs().waitFor([&] {
        auto uploads = f.slack().uploads();
        return !uploads.empty() && uploads[0].completed;
    }, 15s));
    SlackUpload upload = f.slack().uploads().at(0);
    CHECK(upload.user == "U0ALICE01");
    CHECK(upload.bytes == bytes);
    CHECK(upload.initialComment.empty());
    nlohmann::json shared = slackMessage("", "1700000011.000100");
    shared["subtype"] = "file_share";
    shared["files"] = nlohmann::json::array({{{"id", upload.fileId}, {"name", "mine.png"}, {"mimetype", "image/png"},
                                              {"url_private", f.slack().addFile("mine.png", bytes)}}});
    CHECK(f.deliver(shared, "Ev0UPL0001").status == 200);
    CHECK(f.deliver(slackMessage("after the upload", "1700000011.000200"), "Ev0UPL0002").status == 200);
    REQUIRE(f.hs().waitFor([&] { return !f.messages(kAliceGhost, "after the upload").empty(); }, 15s));
    CHECK(f.messages(kAliceGhost, "mine.png").empty());
    CHECK(f.slack().violations().empty());
}

TEST_CASE("logins work through provisioning too: the client token flow, refusals as 403 with Slack's reason, listed with its state") {
    SlackBridge f;
    f.slack().addUserToken({.token = kAliceClientToken, .userId = "U0ALICE01", .scopes = {}, .cookie = kAliceCookie});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    const std::string base = "/_mxbridge/provision/v1";
    StringMap headers = {{"Authorization", std::string("Bearer ") + kProvisioningSecret},
                         {"Content-Type", "application/json"}};
    auto post = [&](const std::string& path, const nlohmann::json& body) {
        return httpCall(f.url(), "POST", base + path, headers, body.dump(), 15s);
    };

    auto started = post("/login/start", {{"user_id", kAlice}, {"network", "slack"}, {"flow", "cookie"}});
    REQUIRE(started.status == 200);
    nlohmann::json step = nlohmann::json::parse(started.body);
    REQUIRE(step["fields"].size() == 2);
    CHECK(step["fields"][0]["kind"] == "secret");
    auto refused = post("/login/step", {{"user_id", kAlice}, {"session_id", step["session_id"]},
                                        {"values", {{"token", kAliceClientToken}, {"cookie", "xoxd-stale"}}}});
    CHECK(refused.status == 403);
    CHECK(has(refused.body, "Slack refused the token"));

    step = nlohmann::json::parse(post("/login/start", {{"user_id", kAlice}, {"network", "slack"}, {"flow", "cookie"}}).body);
    auto ok = post("/login/step", {{"user_id", kAlice}, {"session_id", step["session_id"]},
                                   {"values", {{"token", kAliceClientToken}, {"cookie", kAliceCookie}}}});
    REQUIRE(ok.status == 200);
    CHECK(nlohmann::json::parse(ok.body)["login"]["remote_name"] == "alice");
    CHECK(!has(ok.body, kAliceClientToken));
    std::string listed;
    REQUIRE(f.hs().waitFor([&] {
        listed = httpCall(f.url(), "GET", base + "/logins?user_id=%40alice%3Ahs.test", headers, "", 5s).body;
        return has(listed, "\"state\":\"connected\"");
    }, 15s));
    CHECK(!has(listed, kAliceCookie));
    // Logged in this way, her messages are hers on Slack.
    f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "via provisioning"}});
    REQUIRE(f.hs().waitFor([&] { return f.slack().posts().size() == 1; }, 15s));
    CHECK(f.slack().posts().at(0).user == "U0ALICE01");
    CHECK(f.slack().violations().empty());
}

TEST_CASE("with relay_when_login_fails: false, a refused login's messages are told as undelivered, not relayed") {
    SlackBridge f;
    f.bridgeExtra = "\n  relay_when_login_fails: false";
    f.slack().addUserToken({.token = kAliceUserToken, .userId = "U0ALICE01", .scopes = {"chat:write"}, .cookie = {}});
    f.start();
    REQUIRE(!f.logLine("connected to Slack").empty());
    std::string dm = f.botDm(kAlice);
    logAliceIn(f, dm);
    REQUIRE(f.hs().waitFor([&] { return has(f.command(dm, "!status"), "slack: connected"); }, 15s));
    f.slack().revokeUserToken(kAliceUserToken, "token_expired");
    // The bot's notices in the room replying to `event`.
    auto toldAbout = [&](const std::string& event) {
        for (const auto& e : f.hs().timeline(f.room()))
            if (e.value("sender", "") == f.hs().botUserId() &&
                e["content"].value("m.relates_to", nlohmann::json::object())
                        .value("m.in_reply_to", nlohmann::json::object())
                        .value("event_id", "") == event)
                return e["content"].value("body", "");
        return std::string();
    };
    std::string first = f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "first"}});
    REQUIRE(f.hs().waitFor([&] { return !toldAbout(first).empty(); }, 15s));
    CHECK_MESSAGE(has(toldAbout(first), "was not delivered to Slack: Slack refused your login; send !login slack"),
                  toldAbout(first));
    REQUIRE(f.hs().waitFor([&] { return botSaid(f, dm, "the Slack token expired"); }, 15s));
    std::string second = f.hs().sendAsUser(f.room(), kAlice, {{"msgtype", "m.text"}, {"body", "second"}});
    REQUIRE(f.hs().waitFor([&] { return has(toldAbout(second), "Slack refused your login"); }, 15s));
    CHECK(f.slack().posts().empty());
    CHECK(f.slack().violations().empty());
}
