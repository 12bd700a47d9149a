// The XMPP bridge end to end: an XMPP user writes to a Matrix user's JID at the component,
// the Matrix user finds a direct chat with the sender's ghost holding the text, and the answer
// typed there reaches the XMPP user; a Matrix alias naming a MUC opens a portal to it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fstream>

#include "harness_error.h"
#include "homeserver_double.h"
// After the double: its HttpResponse is the test server's; this one is the client's.
#include "http_client.h"
#include "ports.h"
#include "process.h"
#include "prosody_fixture.h"
#include "spec_catalog.h"
#include "spec_dir.h"
#include "temp_dir.h"

using namespace mxbridge::test;

namespace {

constexpr const char* kServerName = "hs.test";
constexpr const char* kAsToken = "as_token_for_xmpp_tests";
constexpr const char* kHsToken = "hs_token_for_xmpp_tests";
constexpr const char* kPython = "/usr/bin/python3";

bool slixmppAvailable() {
    return std::system((std::string(kPython) + " -c 'import slixmpp' >/dev/null 2>&1").c_str()) == 0;
}

// True (and says so) when the XMPP test users cannot run: the test then checks nothing.
bool skippedWithoutSlixmpp() {
    if (slixmppAvailable()) return false;
    MESSAGE("skipped: python3-slixmpp is not installed for " << kPython);
    return true;
}

HomeserverConfig homeserverConfig(std::uint16_t bridgePort) {
    HomeserverConfig c;
    c.serverName = kServerName;
    c.asToken = kAsToken;
    c.hsToken = kHsToken;
    c.senderLocalpart = "xmppbot";
    c.appserviceUrl = "http://127.0.0.1:" + std::to_string(bridgePort);
    c.userNamespaceRegex = "@xmpp_.*:hs\\.test";
    c.aliasNamespaceRegex = "#xmpp_.*:hs\\.test";
    c.retryInitial = std::chrono::milliseconds(50);
    c.retryMax = std::chrono::milliseconds(400);
    return c;
}

constexpr const char* kProvisioningSecret = "provisioning-secret-for-xmpp-tests";

std::string bridgeConfig(const TempDir& dir, const HomeserverDouble& hs, std::uint16_t bridgePort,
                         const ProsodyFixture& prosody,
                         const std::string& componentSecret = ProsodyFixture::kComponentSecret,
                         const std::string& moreBridgeYaml = {}) {
    std::ostringstream y;
    y << "homeserver:\n  url: " << hs.url() << "\n  server_name: " << kServerName
      << "\n  startup_timeout_seconds: 10\n"
      << "appservice:\n  id: mxbridge\n  bind_address: 127.0.0.1\n  port: " << bridgePort
      << "\n  public_url: http://127.0.0.1:" << bridgePort << "\n  registration_file: "
      << (dir / "registration.yaml").string() << "\n  as_token: " << kAsToken << "\n  hs_token: " << kHsToken
      << "\n  bot_localpart: xmppbot\n"
      << "database:\n  path: " << (dir / "mxbridge.db").string() << "\n"
      << "logging:\n  level: debug\n"
      << "provisioning:\n  enabled: true\n  shared_secret: " << kProvisioningSecret << "\n"
      << "bridge:\n  type: xmpp\n  component:\n    jid: " << ProsodyFixture::kComponentJid
      << "\n    secret: " << componentSecret << "\n    host: 127.0.0.1\n    port: "
      << prosody.componentPort() << "\n" << moreBridgeYaml;
    return y.str();
}

// The real binary with `type: xmpp`, running and with its component connected.
std::unique_ptr<Process> startBridge(const TempDir& dir, const HomeserverDouble& hs, std::uint16_t bridgePort,
                                     const ProsodyFixture& prosody, const std::string& moreBridgeYaml = {}) {
    writeFile(dir / "config.yaml",
              bridgeConfig(dir, hs, bridgePort, prosody, ProsodyFixture::kComponentSecret, moreBridgeYaml));
    auto bridge = std::make_unique<Process>(ProcessOptions{.argv = {MXBRIDGE_CLI_PATH, "run", "-c", (dir / "config.yaml").string()},
                                                           .workDir = dir.path(),
                                                           .logFile = dir / "mxbridge.log",
                                                           .name = "mxbridge"});
    bridge->waitForLine("bridge is running", 20s);
    // The component connects on its own thread: before or after that line.
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& line : bridge->lines())
                                if (line.find("XMPP component connected") != std::string::npos) return true;
                            return false;
                        },
                        10s),
                    bridge->lastLines(40));
    return bridge;
}

// The component's entry in GET /_mxbridge/v1/state, once it is in `state` (null if it is not
// within 10 s).
nlohmann::json componentStateOnceIn(std::uint16_t bridgePort, const std::string& state) {
    std::string last;
    for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(50ms)) {
        harness_http::HttpClient monitor(bridgePort, false);
        harness_http::HttpResponse r =
            monitor.get("/_mxbridge/v1/state", {{"Authorization", std::string("Bearer ") + kProvisioningSecret}});
        last = std::to_string(r.status) + " " + r.body;
        if (r.status != 200) continue;
        nlohmann::json body = nlohmann::json::parse(r.body);
        for (const auto& c : body["connections"])
            if (c.value("network", "") == ProsodyFixture::kComponentJid && c.value("state", "") == state) return c;
    }
    MESSAGE("the state endpoint last said: " << last);
    return nullptr;
}

// An XMPP user in a MUC (muc_user.py), ordered through a file it follows.
class MucUser {
public:
    MucUser(const ProsodyFixture& prosody, const TempDir& dir, const std::string& name, const std::string& room,
            const std::string& nick)
        : commands_(dir / (name + ".commands")),
          process_({.argv = {kPython, MXBRIDGE_MUC_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                             name + "@localhost/pc", "--password", name + "pw", "--room", room, "--nick", nick,
                             "--commands", commands_.string()},
                    .name = name}) {}
    void order(const std::string& line) {
        std::ofstream(commands_, std::ios::app) << line << "\n";
        process_.waitForLine("^DID " + line.substr(0, line.find(' ')), 10s);
    }
    Process& process() { return process_; }

private:
    std::filesystem::path commands_;
    Process process_;
};

// An XMPP user in a 1:1 chat (chat_user.py), ordered through a file it follows.
class ChatUser {
public:
    ChatUser(const ProsodyFixture& prosody, const TempDir& dir, const std::string& name, const std::string& to)
        : commands_(dir / (name + ".commands")),
          process_({.argv = {kPython, MXBRIDGE_CHAT_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                             name + "@localhost/pc", "--password", name + "pw", "--to", to, "--commands",
                             commands_.string()},
                    .name = name}) {}
    void order(const std::string& line) {
        std::ofstream(commands_, std::ios::app) << line << "\n";
        process_.waitForLine("^DID " + line.substr(0, line.find(' ')), 10s);
    }
    Process& process() { return process_; }

private:
    std::filesystem::path commands_;
    Process process_;
};

// An XMPP user of the gateway MUC service (gateway_user.py), ordered through a file it follows.
class GatewayUser {
public:
    GatewayUser(const ProsodyFixture& prosody, const TempDir& dir, const std::string& name)
        : commands_(dir / (name + ".commands")),
          process_({.argv = {kPython, MXBRIDGE_GATEWAY_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()),
                             "--jid", name + "@localhost/pc", "--password", name + "pw", "--component",
                             ProsodyFixture::kComponentJid, "--commands", commands_.string()},
                    .name = name}) {}
    // Gives an order and waits until it is done; returns the first line matching `wanted`
    // printed from then on (empty `wanted`: none waited for).
    std::string order(const std::string& line, const std::string& wanted = {}) {
        std::ofstream(commands_, std::ios::app) << line << "\n";
        if (wanted.empty()) return process_.waitForLine("^DID " + line.substr(0, line.find(' ')), 15s);
        return process_.waitForLine(wanted, 15s);
    }
    // Every line printed so far from the one starting with `from`.
    std::vector<std::string> linesFrom(const std::string& from) {
        std::vector<std::string> out;
        for (const auto& line : process_.lines())
            if (!out.empty() || line.rfind(from, 0) == 0) out.push_back(line);
        return out;
    }
    Process& process() { return process_; }

private:
    std::filesystem::path commands_;
    Process process_;
};

// The timeline's messages with this body.
std::vector<nlohmann::json> messagesWithBody(const HomeserverDouble& hs, const std::string& room,
                                             const std::string& body) {
    std::vector<nlohmann::json> found;
    for (const auto& e : hs.timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("body", "") == body) found.push_back(e);
    return found;
}

// The edit (m.replace) in `room` whose new text is `body`, once there (null if not within 10 s).
nlohmann::json editWithBody(const HomeserverDouble& hs, const std::string& room, const std::string& body) {
    nlohmann::json edit;
    hs.waitFor(
        [&] {
            for (const auto& e : messagesWithBody(hs, room, "* " + body))
                if (e["content"].contains("m.relates_to")) edit = e;
            return !edit.is_null();
        },
        10s);
    return edit;
}

// The body of the last notice in `room` holding `text` (and not `unless`); empty if none.
std::string noticeWith(const HomeserverDouble& hs, const std::string& room, const std::string& text,
                       const std::string& unless = {}) {
    std::string found;
    for (const auto& e : hs.timeline(room)) {
        std::string body = e["content"].value("body", "");
        if (e["content"].value("msgtype", "") == "m.notice" && body.find(text) != std::string::npos &&
            (unless.empty() || body.find(unless) == std::string::npos))
            found = body;
    }
    return found;
}

// `user` redacts `event`, as their client would.
void redactAs(HomeserverDouble& hs, const std::string& room, const std::string& user, const std::string& event,
              const std::string& reason = {}) {
    nlohmann::json content = {{"redacts", event}};
    if (!reason.empty()) content["reason"] = reason;
    hs.injectEvent({{"room_id", room}, {"sender", user}, {"type", "m.room.redaction"}, {"redacts", event},
                    {"content", content}});
}

// Whether `sender` redacted `event`.
bool redactedBy(const HomeserverDouble& hs, const std::string& room, const std::string& event,
                const std::string& sender) {
    for (const auto& e : hs.timeline(room))
        if (e.value("type", "") == "m.room.redaction" && e.value("redacts", "") == event &&
            e.value("sender", "") == sender)
            return true;
    return false;
}

// The reaction keys `sender` has on `target` now (those redacted since left out).
std::set<std::string> reactionsOn(const HomeserverDouble& hs, const std::string& room, const std::string& target,
                                  const std::string& sender) {
    std::map<std::string, std::string> keyOf;  // reaction event -> key
    std::set<std::string> redacted;
    for (const auto& e : hs.timeline(room)) {
        if (e.value("type", "") == "m.room.redaction") redacted.insert(e.value("redacts", ""));
        if (e.value("type", "") != "m.reaction" || e.value("sender", "") != sender) continue;
        // A redacted reaction has lost its content.
        nlohmann::json rel = e.value("content", nlohmann::json::object()).value("m.relates_to", nlohmann::json::object());
        if (rel.value("event_id", "") == target) keyOf[e.value("event_id", "")] = rel.value("key", "");
    }
    std::set<std::string> keys;
    for (const auto& [event, key] : keyOf)
        if (!redacted.count(event)) keys.insert(key);
    return keys;
}

std::optional<std::string> stateContent(const HomeserverDouble& hs, const std::string& room, const std::string& type,
                                        const std::string& key) {
    std::optional<std::string> last;
    for (const auto& e : hs.timeline(room))
        if (e.value("type", "") == type) last = e["content"].value(key, "");
    return last;
}

}  // namespace

TEST_CASE("an XMPP user's chat message reaches a Matrix user in a direct chat, and the answer goes back") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    if (skippedWithoutSlixmpp()) return;
    prosody.registerUser("alice", "alicepw");
    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(homeserverConfig(bridgePort));
    hs.addUser("@bob:hs.test");
    TempDir dir("mxbridge-xmpp-it");
    writeFile(dir / "config.yaml", bridgeConfig(dir, hs, bridgePort, prosody));
    Process bridge({.argv = {MXBRIDGE_CLI_PATH, "run", "-c", (dir / "config.yaml").string()},
                    .workDir = dir.path(),
                    .logFile = dir / "mxbridge.log",
                    .name = "mxbridge"});
    bridge.waitForLine("bridge is running", 20s);
    // The component connects on its own thread: before or after that line.
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& line : bridge.lines())
                                if (line.find("XMPP component connected") != std::string::npos) return true;
                            return false;
                        },
                        10s),
                    bridge.lastLines(40));

    const std::string bobJid = "bob\\3ahs.test@matrix.localhost";
    Process alice({.argv = {kPython, MXBRIDGE_XMPP_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()),
                            "--jid", "alice@localhost/phone", "--password", "alicepw", "--component",
                            ProsodyFixture::kComponentJid, "--to", bobJid, "--body", "hello bob, from XMPP"},
                   .name = "alice"});
    alice.waitForLine("^SENT", 15s);

    // The bridge makes a direct chat for bob with alice's ghost, and the message lands there.
    std::string room;
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& r : hs.requests()) {
                                if (r.operationId != "createRoom" || r.status != 200) continue;
                                if (r.body.value("is_direct", false) && r.body.contains("invite") &&
                                    r.body["invite"].dump().find("@bob:hs.test") != std::string::npos) {
                                    room = r.response.value("room_id", "");
                                    return true;
                                }
                            }
                            return false;
                        },
                        15s),
                    bridge.lastLines(60));
    nlohmann::json message;
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& e : hs.timeline(room))
                                if (e.value("type", "") == "m.room.message" &&
                                    e["content"].value("body", "") == "hello bob, from XMPP") {
                                    message = e;
                                    return true;
                                }
                            return false;
                        },
                        15s),
                    bridge.lastLines(60));
    std::string ghost = message.value("sender", "");
    CHECK(ghost.rfind("@xmpp_", 0) == 0);
    CHECK(ghost.find("alice") != std::string::npos);
    CHECK(hs.members(room)["@bob:hs.test"] == "invite");

    // Bob accepts and answers: the answer reaches alice from bob's JID.
    hs.forceJoin(room, "@bob:hs.test");
    hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "hi alice <3"}});
    alice.waitForLine("^GOT hi alice <3$", 15s);
    CHECK(alice.waitExit(10s) == 0);

    // Alice's account is gone: the server bounces bob's next line (service-unavailable), and
    // bob is told in the room instead of the line vanishing. (For a user merely offline the
    // server keeps it in her archive, and nothing bounces.)
    prosody.deleteUser("alice");
    hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "still there?"}});
    nlohmann::json notice;
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& e : hs.timeline(room))
                                if (e.value("type", "") == "m.room.message" &&
                                    e["content"].value("msgtype", "") == "m.notice" &&
                                    e["content"].value("body", "").find("service-unavailable") != std::string::npos) {
                                    notice = e;
                                    return true;
                                }
                            return false;
                        },
                        15s),
                    bridge.lastLines(60));
    MESSAGE("bounce notice: " << notice["content"].value("body", ""));
    CHECK(hs.specViolations().empty());
    CHECK(bridge.terminate(10s) == 0);
}

TEST_CASE("a MUC as a portal: an alias joins it, occupants are ghosts, their lines, nicks and subject follow") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    if (skippedWithoutSlixmpp()) return;
    prosody.registerUser("alice", "alicepw");
    TempDir dir("mxbridge-xmpp-muc-it");
    const std::string roomJid = std::string("lounge@") + ProsodyFixture::kMucDomain;

    // Alice makes the room and sets its subject before the bridge comes.
    MucUser alice(prosody, dir, "alice", roomJid, "alice");
    alice.process().waitForLine("^JOINED alice$", 15s);
    alice.process().waitForLine("^UNLOCKED$", 10s);
    alice.order("subject Lounge talk");
    alice.process().waitForLine("^SUBJECT alice Lounge talk$", 10s);

    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(homeserverConfig(bridgePort));
    hs.addUser("@bob:hs.test", {.displayname = "Bob", .avatarUrl = std::nullopt});
    auto bridge = startBridge(dir, hs, bridgePort, prosody);

    // Bob asks for the alias: the bridge joins the MUC and the portal has the subject as topic.
    const std::string alias = std::string("#xmpp_lounge_") + ProsodyFixture::kMucDomain + ":hs.test";
    HttpClient client(hs.port());
    auto answer = client.get("/_matrix/client/v3/directory/room/" + percentEncode(alias),
                             {{"Authorization", std::string("Bearer ") + kAsToken}}, 20s);
    REQUIRE_MESSAGE(answer.status == 200, answer.body << "\n" << bridge->lastLines(60));
    std::string room = *hs.roomForAlias(alias);
    alice.process().waitForLine("^PRESENCE Matrix available$", 10s);
    hs.forceJoin(room, "@bob:hs.test");
    CHECK(hs.waitFor([&] { return stateContent(hs, room, "m.room.topic", "topic") == "Lounge talk"; }, 10s));

    // Alice is in the room as her ghost, named by her nick.
    std::string ghost;
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& [user, membership] : hs.members(room))
                                if (membership == "join" && user.rfind("@xmpp_", 0) == 0 &&
                                    hs.profile(user).displayname == "alice")
                                    ghost = user;
                            return !ghost.empty();
                        },
                        10s),
                    bridge->lastLines(60));

    // Her line arrives once, as her ghost.
    alice.order("say hello matrix");
    alice.process().waitForLine("^MSG alice hello matrix$", 10s);  // the room's reflection to her
    REQUIRE_MESSAGE(hs.waitFor([&] { return !messagesWithBody(hs, room, "hello matrix").empty(); }, 10s),
                    bridge->lastLines(60));
    CHECK(messagesWithBody(hs, room, "hello matrix").front().value("sender", "") == ghost);

    // Bob answers from Matrix: alice hears him from his own occupant, and the room's
    // reflection of his line does not come back into the portal.
    hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "hi from matrix"}});
    alice.process().waitForLine("^PRESENCE (Bob|bob) available$", 10s);
    alice.process().waitForLine("^MSG (Bob|bob) hi from matrix$", 10s);
    // Corrections both ways: alice's fixes her line in place, bob's edit is a correction.
    alice.order("say helo");
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "helo").empty(); }, 10s));
    std::string typo = messagesWithBody(hs, room, "helo").front().value("event_id", "");
    alice.order("correct hello");
    nlohmann::json fix = editWithBody(hs, room, "hello");
    REQUIRE_MESSAGE(!fix.is_null(), bridge->lastLines(40));
    CHECK(fix["content"]["m.relates_to"].value("rel_type", "") == "m.replace");
    CHECK(fix["content"]["m.relates_to"].value("event_id", "") == typo);
    CHECK(fix.value("sender", "") == ghost);
    std::string bobsTypo = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "matirx"}});
    alice.process().waitForLine("^MSG (Bob|bob) matirx$", 10s);
    hs.sendAsUser(room, "@bob:hs.test",
                  {{"msgtype", "m.text"},
                   {"body", "* matrix"},
                   {"m.new_content", {{"msgtype", "m.text"}, {"body", "matrix"}}},
                   {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", bobsTypo}}}});
    alice.process().waitForLine("^CORRECTION (Bob|bob) matrix$", 10s);

    // Alice retracts a line (XEP-0424): it is redacted in the portal by her ghost.
    alice.order("say oops, wrong room");
    alice.process().waitForLine("^MSG alice oops, wrong room$", 10s);
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "oops, wrong room").empty(); }, 10s));
    std::string oops = messagesWithBody(hs, room, "oops, wrong room").front().value("event_id", "");
    alice.order("retract");
    CHECK_MESSAGE(hs.waitFor([&] { return redactedBy(hs, room, oops, ghost); }, 10s), bridge->lastLines(40));

    // Bob takes a line back: alice sees it retracted (XEP-0424) from his occupant.
    std::string regret = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "my password is hunter2"}});
    alice.process().waitForLine("^MSG (Bob|bob) my password is hunter2$", 10s);
    redactAs(hs, room, "@bob:hs.test", regret);
    alice.process().waitForLine("^RETRACTED (Bob|bob) my password is hunter2$", 10s);

    // Bob removes alice's line: that needs moderation (XEP-0425), which this Prosody lacks,
    // so bob hears that it stayed.
    alice.order("say buy cheap potions");
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "buy cheap potions").empty(); }, 10s));
    std::string spam = messagesWithBody(hs, room, "buy cheap potions").front().value("event_id", "");
    redactAs(hs, room, "@bob:hs.test", spam, "spam");
    std::string stayed;
    CHECK_MESSAGE(hs.waitFor([&] { return !(stayed = noticeWith(hs, room, "moderator")).empty(); }, 10s),
                  bridge->lastLines(40));
    MESSAGE("moderation notice: " << stayed);

    // Formatting both ways: Matrix HTML is message styling (XEP-0393) for XMPP clients, and
    // an occupant's styling is a formatted_body.
    hs.sendAsUser(room, "@bob:hs.test",
                  {{"msgtype", "m.text"},
                   {"body", "**bold** move, `code`"},
                   {"format", "org.matrix.custom.html"},
                   {"formatted_body", "<strong>bold</strong> move, <code>code</code>"}});
    alice.process().waitForLine("^MSG (Bob|bob) \\*bold\\* move, `code`$", 10s);
    alice.order("say _so_ *good*");
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "_so_ *good*").empty(); }, 10s));
    nlohmann::json styled = messagesWithBody(hs, room, "_so_ *good*").front()["content"];
    CHECK(styled.value("format", "") == "org.matrix.custom.html");
    CHECK(styled.value("formatted_body", "") == "<i>_so_</i> <b>*good*</b>");

    // Replies both ways (XEP-0461): alice answers bob's line and Matrix shows a reply without
    // her client's quote; bob answers hers and her client shows which line he answered.
    std::string question = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "tea or coffee?"}});
    alice.process().waitForLine("^MSG (Bob|bob) tea or coffee\\?$", 10s);
    alice.order("reply tea, thanks");
    REQUIRE_MESSAGE(hs.waitFor([&] { return !messagesWithBody(hs, room, "tea, thanks").empty(); }, 10s),
                    bridge->lastLines(40));
    nlohmann::json teaReply = messagesWithBody(hs, room, "tea, thanks").front();
    CHECK(teaReply["content"]["m.relates_to"]["m.in_reply_to"].value("event_id", "") == question);
    hs.sendAsUser(room, "@bob:hs.test",
                  {{"msgtype", "m.text"},
                   {"body", "welcome back"},
                   {"m.relates_to", {{"m.in_reply_to", {{"event_id", messagesWithBody(hs, room, "hello matrix")
                                                                           .front()
                                                                           .value("event_id", "")}}}}}});
    alice.process().waitForLine("^REPLY (Bob|bob) welcome back \\| alice \\| hello matrix$", 10s);

    // Reactions both ways (XEP-0444). Alice's set on bob's line is reactions from her ghost; a
    // smaller set takes one back.
    std::string lunch = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "lunch at noon?"}});
    alice.process().waitForLine("^MSG (Bob|bob) lunch at noon\\?$", 10s);
    alice.order("react 👍 🎉");
    CHECK_MESSAGE(hs.waitFor([&] { return reactionsOn(hs, room, lunch, ghost) == std::set<std::string>{"👍", "🎉"}; }, 10s),
                  bridge->lastLines(40));
    alice.order("react 👍");
    CHECK_MESSAGE(hs.waitFor([&] { return reactionsOn(hs, room, lunch, ghost) == std::set<std::string>{"👍"}; }, 10s),
                  bridge->lastLines(40));
    // Bob's reaction to alice's line reaches her client, and so does taking it back.
    std::string hello = messagesWithBody(hs, room, "hello matrix").front().value("event_id", "");
    std::string heart = hs.sendAsUser(
        room, "@bob:hs.test", {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", hello}, {"key", "❤️"}}}},
        "m.reaction");
    alice.process().waitForLine("^REACTIONS (Bob|bob) hello matrix \\| ❤️$", 10s);
    redactAs(hs, room, "@bob:hs.test", heart);
    alice.process().waitForLine("^REACTIONS (Bob|bob) hello matrix \\| ?$", 10s);
    // A reaction to a line the room never carried (one from before the bridge, say) has no
    // stanza id to name: Bob hears that XMPP users cannot see it, instead of nothing.
    hs.sendAsUser(room, "@bob:hs.test",
                  {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", "$from-before-the-bridge"}, {"key", "👀"}}}},
                  "m.reaction");
    CHECK_MESSAGE(hs.waitFor([&] { return !noticeWith(hs, room, "cannot see it").empty(); }, 10s),
                  bridge->lastLines(40));

    // Bob renames himself on Matrix: his occupant follows, and no ghost appears for him.
    std::size_t membersBefore = hs.members(room).size();
    hs.injectEvent({{"room_id", room},
                    {"sender", "@bob:hs.test"},
                    {"type", "m.room.member"},
                    {"state_key", "@bob:hs.test"},
                    {"content", {{"membership", "join"}, {"displayname", "Bobby"}}},
                    {"unsigned", {{"prev_content", {{"membership", "join"}, {"displayname", "Bob"}}}}}});
    alice.process().waitForLine("^PRESENCE Bobby available$", 10s);
    hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "new name, same me"}});
    alice.process().waitForLine("^MSG Bobby new name, same me$", 10s);
    CHECK(hs.members(room).size() == membersBefore);

    // A Matrix topic change asks the room for a new subject; this room lets only moderators
    // change it, and the bridge is none, so bob hears it was refused.
    hs.injectEvent({{"room_id", room}, {"sender", "@bob:hs.test"}, {"type", "m.room.topic"}, {"state_key", ""},
                    {"content", {{"topic", "Bob's topic"}}}});
    std::string topicRefused;
    CHECK_MESSAGE(hs.waitFor([&] { return !(topicRefused = noticeWith(hs, room, "forbidden", "you in")).empty(); }, 10s),
                  bridge->lastLines(40));
    MESSAGE("topic refusal: " << topicRefused);

    // A Matrix user whose name is taken in the room gets another nick, never alice's.
    hs.addUser("@alice:hs.test", {.displayname = "alice", .avatarUrl = std::nullopt});
    hs.forceJoin(room, "@alice:hs.test");
    hs.sendAsUser(room, "@alice:hs.test", {{"msgtype", "m.text"}, {"body", "I am the other alice"}});
    alice.process().waitForLine("^MSG alice \\(Matrix\\) I am the other alice$", 10s);

    // Carol is banned from the MUC: her line cannot go, and she is told so in the room.
    alice.order("ban carol\\3ahs.test@matrix.localhost");
    hs.forceJoin(room, "@carol:hs.test");
    hs.sendAsUser(room, "@carol:hs.test", {{"msgtype", "m.text"}, {"body", "let me in"}});
    std::string refusal;
    REQUIRE_MESSAGE(hs.waitFor([&] { return !(refusal = noticeWith(hs, room, "did not let you in: forbidden")).empty(); }, 10s),
                    bridge->lastLines(40));
    MESSAGE("refusal notice: " << refusal);

    // A nick change renames the same ghost; no one new joins.
    std::size_t members = hs.members(room).size();
    alice.order("nick alicia");
    alice.process().waitForLine("^PRESENCE alicia available$|^JOINED alicia$", 10s);
    CHECK(hs.waitFor([&] { return hs.profile(ghost).displayname == "alicia"; }, 10s));
    alice.order("say still me");
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "still me").empty(); }, 10s));
    CHECK(messagesWithBody(hs, room, "still me").front().value("sender", "") == ghost);
    CHECK(hs.members(room).size() == members);

    // A new subject is the new topic.
    alice.order("subject Lounge, now with Matrix");
    CHECK(hs.waitFor([&] { return stateContent(hs, room, "m.room.topic", "topic") == "Lounge, now with Matrix"; },
                     10s));

    // Bob leaves the portal: his occupant leaves the MUC.
    hs.injectEvent({{"room_id", room},
                    {"sender", "@bob:hs.test"},
                    {"type", "m.room.member"},
                    {"state_key", "@bob:hs.test"},
                    {"content", {{"membership", "leave"}}}});
    alice.process().waitForLine("^PRESENCE Bobby unavailable$", 10s);

    // She leaves: so does her ghost. Nothing was bridged twice.
    alice.order("leave");
    CHECK(alice.process().waitExit(10s) == 0);
    CHECK(hs.waitFor([&] { return hs.members(room)[ghost] == "leave"; }, 10s));
    CHECK(messagesWithBody(hs, room, "hello matrix").size() == 1);
    CHECK(messagesWithBody(hs, room, "still me").size() == 1);
    CHECK(messagesWithBody(hs, room, "hi from matrix").size() == 1);  // bob's own, no echo
    CHECK(messagesWithBody(hs, room, "I am the other alice").size() == 1);
    CHECK(hs.specViolations().empty());
    CHECK(bridge->terminate(10s) == 0);
}

TEST_CASE("the component's state is the bridge's remote state: a wrong secret shows as bad credentials, the right one as connected") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(homeserverConfig(bridgePort));
    TempDir dir("mxbridge-xmpp-state");
    {
        writeFile(dir / "config.yaml", bridgeConfig(dir, hs, bridgePort, prosody, "not-the-component-secret"));
        Process bridge({.argv = {MXBRIDGE_CLI_PATH, "run", "-c", (dir / "config.yaml").string()},
                        .workDir = dir.path(),
                        .logFile = dir / "mxbridge-wrong.log",
                        .name = "mxbridge"});
        bridge.waitForLine("bridge is running", 20s);
        nlohmann::json refused = componentStateOnceIn(bridgePort, "bad_credentials");
        INFO(bridge.lastLines(40));
        REQUIRE(refused.is_object());
        CHECK(refused.value("code", "") == "not-authorized");
        CHECK_FALSE(refused.value("reason", "").empty());
        // The operator's log says what to fix (written before or after "bridge is running").
        bool told = false;
        for (const auto& line : bridge.lines())
            told = told || (line.find("XMPP server refused the component") != std::string::npos &&
                            line.find("component secret differs") != std::string::npos);
        CHECK(told);
    }
    auto bridge = startBridge(dir, hs, bridgePort, prosody);
    nlohmann::json connected = componentStateOnceIn(bridgePort, "connected");
    INFO(bridge->lastLines(40));
    CHECK(connected.is_object());
}

TEST_CASE("a 1:1 chat carries corrections, retractions, reactions, replies and typing both ways") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    if (skippedWithoutSlixmpp()) return;
    prosody.registerUser("alice", "alicepw");
    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(homeserverConfig(bridgePort));
    hs.addUser("@bob:hs.test");
    TempDir dir("mxbridge-xmpp-chat-it");
    auto bridge = startBridge(dir, hs, bridgePort, prosody);
    const std::string bobJid = "bob\\3ahs.test@matrix.localhost";
    ChatUser alice(prosody, dir, "alice", bobJid);
    alice.process().waitForLine("^READY$", 15s);

    alice.order("say hi bob");
    std::string room;
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& r : hs.requests())
                                if (r.operationId == "createRoom" && r.status == 200 && r.body.value("is_direct", false))
                                    room = r.response.value("room_id", "");
                            return !room.empty() && !messagesWithBody(hs, room, "hi bob").empty();
                        },
                        15s),
                    bridge->lastLines(40));
    hs.forceJoin(room, "@bob:hs.test");
    std::string hi = messagesWithBody(hs, room, "hi bob").front().value("event_id", "");
    std::string ghost = messagesWithBody(hs, room, "hi bob").front().value("sender", "");

    // Alice types, then fixes her line: the ghost types, and the line is edited.
    alice.order("state composing");
    CHECK_MESSAGE(hs.waitFor([&] { auto t = hs.typing(room); return std::find(t.begin(), t.end(), ghost) != t.end(); }, 10s),
                  bridge->lastLines(40));
    alice.order("correct hi bob!");
    CHECK(hs.waitFor(
        [&] {
            for (const auto& e : messagesWithBody(hs, room, "* hi bob!"))
                if (e["content"]["m.relates_to"].value("event_id", "") == hi) return true;
            return false;
        },
        10s));

    // Bob answers, edits and replies from Matrix; alice's client shows each as such.
    std::string hello = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "hello alcie"}});
    alice.process().waitForLine("^MSG hello alcie$", 10s);
    hs.sendAsUser(room, "@bob:hs.test",
                  {{"msgtype", "m.text"},
                   {"body", "* hello alice"},
                   {"m.new_content", {{"msgtype", "m.text"}, {"body", "hello alice"}}},
                   {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", hello}}}});
    alice.process().waitForLine("^CORRECTION hello alice$", 10s);
    std::string glad = hs.sendAsUser(
        room, "@bob:hs.test",
        {{"msgtype", "m.text"}, {"body", "glad you wrote"}, {"m.relates_to", {{"m.in_reply_to", {{"event_id", hi}}}}}});
    alice.process().waitForLine("^REPLY glad you wrote \\| hi bob!?$", 10s);

    // Reactions both ways, and taking them back.
    std::string thumbs = hs.sendAsUser(
        room, "@bob:hs.test", {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", hi}, {"key", "👍"}}}},
        "m.reaction");
    alice.process().waitForLine("^REACTIONS hi bob!? \\| 👍$", 10s);
    redactAs(hs, room, "@bob:hs.test", thumbs);
    alice.process().waitForLine("^REACTIONS hi bob!? \\| ?$", 10s);
    alice.order("react 🎉");  // to bob's last line
    CHECK_MESSAGE(hs.waitFor([&] { return reactionsOn(hs, room, glad, ghost) == std::set<std::string>{"🎉"}; }, 10s),
                  bridge->lastLines(40));
    alice.order("react");
    CHECK(hs.waitFor([&] { return reactionsOn(hs, room, glad, ghost).empty(); }, 10s));

    // Retractions both ways.
    std::string oops = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "wrong window"}});
    alice.process().waitForLine("^MSG wrong window$", 10s);
    redactAs(hs, room, "@bob:hs.test", oops);
    alice.process().waitForLine("^RETRACTED wrong window$", 10s);
    alice.order("say never mind");
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "never mind").empty(); }, 10s));
    std::string mind = messagesWithBody(hs, room, "never mind").front().value("event_id", "");
    alice.order("retract");
    CHECK(hs.waitFor([&] { return redactedBy(hs, room, mind, ghost); }, 10s));

    // Bob types on Matrix: alice sees him composing, then active.
    hs.pushTransaction({{"events", nlohmann::json::array()},
                        {"ephemeral",
                         {{{"type", "m.typing"}, {"room_id", room}, {"content", {{"user_ids", {"@bob:hs.test"}}}}}}}});
    alice.process().waitForLine("^STATE composing$", 10s);
    hs.pushTransaction({{"events", nlohmann::json::array()},
                        {"ephemeral", {{{"type", "m.typing"}, {"room_id", room}, {"content", {{"user_ids", nlohmann::json::array()}}}}}}});
    alice.process().waitForLine("^STATE active$", 10s);

    CHECK(messagesWithBody(hs, room, "hi bob").size() == 1);
    CHECK(hs.specViolations().empty());
    CHECK(bridge->terminate(10s) == 0);
}

namespace {

// Where `prefix` starts a line of `lines` (lines.size() when none does).
std::size_t indexOf(const std::vector<std::string>& lines, const std::string& prefix) {
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].rfind(prefix, 0) == 0) return i;
    return lines.size();
}

// The value of `key=` in a line printed by gateway_user.py.
std::string field(const std::string& line, const std::string& key) {
    auto at = line.find(" " + key + "=");
    if (at == std::string::npos) return {};
    at += key.size() + 2;
    return line.substr(at, line.find(' ', at) - at);
}

}  // namespace

TEST_CASE("the gateway MUC service: XMPP users join a Matrix room by its alias, talk both ways and leave") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    if (skippedWithoutSlixmpp()) return;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("carol", "carolpw");
    TempDir dir("mxbridge-xmpp-gateway-it");
    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(homeserverConfig(bridgePort));
    hs.addUser("@bob:hs.test", {.displayname = "Bob", .avatarUrl = std::nullopt});
    hs.addUser("@dave:hs.test", {.displayname = "Dave", .avatarUrl = std::nullopt});
    std::string room = hs.createRoom("@bob:hs.test", {{"preset", "public_chat"},
                                                      {"room_alias_name", "lounge"},
                                                      {"name", "The Lounge"},
                                                      {"topic", "Matrix lounge"}});
    hs.createRoom("@bob:hs.test", {{"preset", "private_chat"}, {"room_alias_name", "secret"}});
    std::string earlier = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "earlier words"}});
    auto bridge = startBridge(dir, hs, bridgePort, prosody, "  gateway:\n    enabled: true\n");
    const std::string lounge = "lounge#hs.test@" + std::string(ProsodyFixture::kComponentJid);

    // The component answers as a MUC service, and a room as a room; an unknown alias is none.
    GatewayUser alice(prosody, dir, "alice");
    std::string service = alice.order(std::string("disco ") + ProsodyFixture::kComponentJid, "^DISCO ");
    CHECK(service.find("conference/text/") != std::string::npos);
    CHECK(service.find(" http://jabber.org/protocol/muc ") != std::string::npos);
    std::string info = alice.order("disco " + lounge, "^(DISCO|ERROR) ");
    CHECK(info.find("conference/text/") != std::string::npos);
    CHECK(info.find("http://jabber.org/protocol/muc ") != std::string::npos);
    CHECK(info.find("muc_nonanonymous") != std::string::npos);
    CHECK(alice.order("disco nosuch#hs.test@matrix.localhost", "^(DISCO|ERROR) ").rfind("ERROR item-not-found", 0) == 0);
    // The service keeps its list of rooms to itself (§6.3): every Matrix alias is one.
    CHECK(alice.order(std::string("items ") + ProsodyFixture::kComponentJid, "^(ITEMS|ERROR) ").find("| 0") !=
          std::string::npos);

    // Alice joins: Bob's presence first, then her own with 110 (and 100: real JIDs are shown)
    // echoing her join's id, then what was said before (dated), then the topic as subject
    // (XEP-0045 §7.2.3, §7.2.14).
    std::string joining = alice.order("join " + lounge + "/alice", "^JOINING ");
    std::string self = alice.process().waitForLine("^PRESENCE alice available codes=100,110 ", 15s);
    CHECK(field(self, "id") == joining.substr(std::string("JOINING ").size()));
    alice.process().waitForLine("^SUBJECT Matrix lounge$", 10s);
    std::vector<std::string> seen = alice.linesFrom("JOINING");
    std::size_t bob = indexOf(seen, "PRESENCE Bob available codes= jid=bob\\3ahs.test@matrix.localhost");
    std::size_t mine = indexOf(seen, "PRESENCE alice available codes=100,110");
    std::size_t history = indexOf(seen, "HISTORY Bob earlier words | stamp=");
    std::size_t subject = indexOf(seen, "SUBJECT Matrix lounge");
    CHECK_MESSAGE(bob < mine, alice.process().lastLines(20));
    CHECK(mine < history);
    CHECK(history < subject);
    CHECK(subject < seen.size());
    if (history < seen.size()) CHECK(field(seen[history], "sid") == earlier);

    // She is a ghost in the Matrix room, named by her nick.
    std::string ghost;
    REQUIRE_MESSAGE(hs.waitFor(
                        [&] {
                            for (const auto& [user, membership] : hs.members(room))
                                if (membership == "join" && user.rfind("@xmpp_", 0) == 0) ghost = user;
                            return !ghost.empty() && hs.profile(ghost).displayname == "alice";
                        },
                        10s),
                    bridge->lastLines(60));

    // Refusals in XEP-0045's terms: no such room, a nick taken, a room that lets no one in.
    GatewayUser carol(prosody, dir, "carol");
    carol.order("join nosuch#hs.test@matrix.localhost/carol");
    carol.process().waitForLine("^ERROR item-not-found ", 15s);
    carol.order("join " + lounge + "/Bob");
    carol.process().waitForLine("^ERROR conflict ", 15s);
    carol.order("join secret#hs.test@matrix.localhost/carol");
    carol.process().waitForLine("^ERROR forbidden ", 15s);
    carol.order("join " + lounge);
    carol.process().waitForLine("^ERROR jid-malformed ", 15s);

    // Alice's line goes to Matrix from her ghost and comes back to her with her id and the
    // room's stanza id; Bob's line reaches her from his occupant.
    std::string sent = alice.order("say " + lounge + " hello matrix", "^SENT ");
    std::string echo = alice.process().waitForLine("^MSG alice hello matrix \\| ", 15s);
    CHECK(field(echo, "id") == sent.substr(std::string("SENT ").size()));
    CHECK_FALSE(field(echo, "sid").empty());
    REQUIRE_MESSAGE(hs.waitFor([&] { return !messagesWithBody(hs, room, "hello matrix").empty(); }, 10s),
                    bridge->lastLines(60));
    CHECK(messagesWithBody(hs, room, "hello matrix").front().value("sender", "") == ghost);
    // Her correction (XEP-0308) of a line edits it in Matrix, and is reflected like any line.
    alice.order("say " + lounge + " helo");
    REQUIRE(hs.waitFor([&] { return !messagesWithBody(hs, room, "helo").empty(); }, 10s));
    std::string typo = messagesWithBody(hs, room, "helo").front().value("event_id", "");
    alice.order("correct " + lounge + " hello");
    alice.process().waitForLine("^MSG alice hello \\| ", 15s);
    nlohmann::json fix = editWithBody(hs, room, "hello");
    REQUIRE_MESSAGE(!fix.is_null(), bridge->lastLines(40));
    CHECK(fix["content"]["m.relates_to"].value("event_id", "") == typo);
    CHECK(fix.value("sender", "") == ghost);
    std::string bobsLine = hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "hi from matrix"}});
    std::string heard = alice.process().waitForLine("^MSG Bob hi from matrix \\| ", 15s);
    CHECK(field(heard, "sid") == bobsLine);

    // Carol joins too, asking for two lines of history: alice sees her come, carol sees
    // everyone, then herself, then alice's and Bob's last lines.
    carol.order("join " + lounge + "/carol 2");
    carol.process().waitForLine("^PRESENCE carol available codes=100,110 ", 15s);
    carol.process().waitForLine("^HISTORY alice helo \\| ", 15s);  // as first said: edits not applied yet
    carol.process().waitForLine("^HISTORY Bob hi from matrix \\| ", 15s);
    carol.process().waitForLine("^SUBJECT Matrix lounge$", 15s);
    CHECK(indexOf(carol.linesFrom("PRESENCE"), "HISTORY Bob earlier words") == carol.linesFrom("PRESENCE").size());
    alice.process().waitForLine("^PRESENCE carol available codes= jid=carol@localhost/pc ", 15s);
    std::vector<std::string> carolSaw = carol.linesFrom("PRESENCE");
    CHECK(indexOf(carolSaw, "PRESENCE alice available codes= jid=alice@localhost/pc") <
          indexOf(carolSaw, "PRESENCE carol available codes=100,110"));
    CHECK(indexOf(carolSaw, "PRESENCE Bob available") < indexOf(carolSaw, "PRESENCE carol available codes=100,110"));
    carol.order("say " + lounge + " hi all");
    alice.process().waitForLine("^MSG carol hi all \\| ", 15s);
    carol.process().waitForLine("^MSG carol hi all \\| ", 15s);
    // What the gateway does not carry yet is told to Bob, not dropped.
    hs.sendAsUser(room, "@bob:hs.test",
                  {{"msgtype", "m.text"},
                   {"body", "* hi from Matrix"},
                   {"m.new_content", {{"msgtype", "m.text"}, {"body", "hi from Matrix"}}},
                   {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", bobsLine}}}});
    CHECK_MESSAGE(hs.waitFor([&] { return !noticeWith(hs, room, "edits do not reach XMPP users").empty(); }, 10s),
                  bridge->lastLines(40));
    CHECK(carol.order("ping " + lounge + "/carol", "^(PONG|ERROR) ").rfind("PONG", 0) == 0);

    // Alice takes another nick (§7.6): a taken one is refused, a free one is hers, told to
    // everyone (303, then the new nick; 110 on her own copies) and her ghost's name follows.
    alice.order("join " + lounge + "/Bob");
    alice.process().waitForLine("^ERROR conflict ", 15s);
    alice.order("join " + lounge + "/alicia");
    alice.process().waitForLine("^PRESENCE alice unavailable codes=110,303 ", 15s);
    alice.process().waitForLine("^PRESENCE alicia available codes=110 ", 15s);
    carol.process().waitForLine("^PRESENCE alice unavailable codes=303 ", 15s);
    carol.process().waitForLine("^PRESENCE alicia available codes= ", 15s);
    CHECK_MESSAGE(hs.waitFor([&] { return hs.profile(ghost).displayname == "alicia"; }, 10s), bridge->lastLines(40));

    // A new Matrix topic is the room's subject for everyone in it.
    hs.injectEvent({{"room_id", room}, {"sender", "@bob:hs.test"}, {"type", "m.room.topic"}, {"state_key", ""},
                    {"content", {{"topic", "Lounge, now on XMPP"}}}});
    alice.process().waitForLine("^SUBJECT Lounge, now on XMPP$", 15s);
    carol.process().waitForLine("^SUBJECT Lounge, now on XMPP$", 15s);

    // Matrix members coming and going are occupants coming and going.
    hs.forceJoin(room, "@dave:hs.test");
    alice.process().waitForLine("^PRESENCE Dave available codes= jid=dave\\\\3ahs.test@matrix.localhost ", 15s);
    hs.injectEvent({{"room_id", room}, {"sender", "@dave:hs.test"}, {"type", "m.room.member"},
                    {"state_key", "@dave:hs.test"}, {"content", {{"membership", "leave"}}}});
    alice.process().waitForLine("^PRESENCE Dave unavailable codes= ", 15s);
    // Put out by someone else: a kick is 307, a ban 301 (XEP-0045 §9.1, §9.2).
    for (const auto& [membership, code] : {std::pair<std::string, std::string>{"leave", "307"}, {"ban", "301"}}) {
        hs.forceJoin(room, "@dave:hs.test");
        alice.process().waitForLine("^PRESENCE Dave available ", 15s);
        hs.injectEvent({{"room_id", room}, {"sender", "@bob:hs.test"}, {"type", "m.room.member"},
                        {"state_key", "@dave:hs.test"}, {"content", {{"membership", membership}}}});
        alice.process().waitForLine("^PRESENCE Dave unavailable codes=" + code + " ", 15s);
    }
    // A new display name is a nick change: the old nick goes with 303, the new one comes.
    hs.injectEvent({{"room_id", room}, {"sender", "@bob:hs.test"}, {"type", "m.room.member"},
                    {"state_key", "@bob:hs.test"}, {"content", {{"membership", "join"}, {"displayname", "Bobby"}}}});
    alice.process().waitForLine("^PRESENCE Bob unavailable codes=303 ", 15s);
    alice.process().waitForLine("^PRESENCE Bobby available codes= ", 15s);
    hs.sendAsUser(room, "@bob:hs.test", {{"msgtype", "m.text"}, {"body", "new name"}});
    alice.process().waitForLine("^MSG Bobby new name \\| ", 15s);

    // Alice leaves: her own unavailable presence with 110, carol sees her go, and her ghost
    // leaves the Matrix room; she is no occupant any more.
    alice.order("leave " + lounge + "/alicia");
    alice.process().waitForLine("^PRESENCE alicia unavailable codes=110 ", 15s);
    carol.process().waitForLine("^PRESENCE alicia unavailable codes= ", 15s);
    CHECK_MESSAGE(hs.waitFor([&] { return hs.members(room)[ghost] == "leave"; }, 10s), bridge->lastLines(40));
    CHECK(alice.order("ping " + lounge + "/alicia", "^(PONG|ERROR) ").rfind("ERROR not-acceptable", 0) == 0);
    alice.order("say " + lounge + " still here?");
    alice.process().waitForLine("^ERROR not-acceptable ", 15s);

    // Carol's ghost kicked from the Matrix room: she is out of the MUC, told so (110, 307).
    std::string carolsGhost;
    for (const auto& [user, membership] : hs.members(room))
        if (membership == "join" && user.rfind("@xmpp_", 0) == 0 && user.find("carol") != std::string::npos)
            carolsGhost = user;
    REQUIRE(!carolsGhost.empty());
    hs.injectEvent({{"room_id", room}, {"sender", "@bob:hs.test"}, {"type", "m.room.member"},
                    {"state_key", carolsGhost}, {"content", {{"membership", "leave"}}}});
    carol.process().waitForLine("^PRESENCE carol unavailable codes=110,307 ", 15s);
    carol.order("say " + lounge + " am I out?");
    carol.process().waitForLine("^ERROR not-acceptable ", 15s);

    alice.order("quit");
    carol.order("quit");
    CHECK(hs.specViolations().empty());
    for (const auto& v : hs.specViolations()) MESSAGE(v);
    CHECK(bridge->terminate(10s) == 0);
}
