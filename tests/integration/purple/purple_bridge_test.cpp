// The libpurple bridge end to end, as a Matrix user sees it: !protocols lists what this
// machine's libpurple offers, !login jabber asks the fields prpl-jabber declares and logs
// the user's XMPP account in through the bridge's host; an XMPP user's IM arrives in a
// direct chat from their ghost and the answer typed there reaches them; a host killed with
// SIGKILL is replaced, the account comes back and IMs flow again.
#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "homeserver_double.h"
#include "ports.h"
#include "process.h"
#include "prosody_fixture.h"
#include "spec_dir.h"
#include "temp_dir.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

constexpr const char* kServerName = "hs.test";
constexpr const char* kAsToken = "as_token_for_purple_tests";
constexpr const char* kHsToken = "hs_token_for_purple_tests";
constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kCarol = "@carol:hs.test";

HomeserverConfig homeserverConfig(std::uint16_t bridgePort) {
    HomeserverConfig c;
    c.serverName = kServerName;
    c.asToken = kAsToken;
    c.hsToken = kHsToken;
    c.senderLocalpart = "purplebot";
    c.appserviceUrl = "http://127.0.0.1:" + std::to_string(bridgePort);
    c.userNamespaceRegex = "@purple_.*:hs\\.test";
    c.aliasNamespaceRegex = "#purple_.*:hs\\.test";
    c.retryInitial = std::chrono::milliseconds(50);
    c.retryMax = std::chrono::milliseconds(400);
    return c;
}

std::string bridgeConfig(const TempDir& dir, const HomeserverDouble& hs, std::uint16_t bridgePort) {
    std::ostringstream y;
    y << "homeserver:\n  url: " << hs.url() << "\n  server_name: " << kServerName
      << "\n  startup_timeout_seconds: 10\n"
      << "appservice:\n  id: mxbridge\n  bind_address: 127.0.0.1\n  port: " << bridgePort
      << "\n  public_url: http://127.0.0.1:" << bridgePort << "\n  registration_file: "
      << (dir / "registration.yaml").string() << "\n  as_token: " << kAsToken << "\n  hs_token: " << kHsToken
      << "\n  bot_localpart: purplebot\n"
      << "database:\n  path: " << (dir / "mxbridge.db").string()
      << "\n  secret_key: a-database-secret-key-for-the-purple-test\n"
      << "logging:\n  level: debug\n"
      << "bridge:\n  type: purple\n  host_program: " << MXBRIDGE_PURPLE_HOST_PATH << "\n  data_dir: "
      << (dir / "purple-hosts").string() << "\n  ping_interval_seconds: 2\n  ping_timeout_seconds: 3\n";
    return y.str();
}

std::vector<std::string> botNotices(const HomeserverDouble& hs, const std::string& room) {
    std::vector<std::string> bodies;
    for (const json& e : hs.timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("msgtype", "") == "m.notice" &&
            e.value("sender", "") == hs.botUserId())
            bodies.push_back(e["content"].value("body", ""));
    return bodies;
}

// What a user answers to each of prpl-jabber's questions, found by the words of the label.
std::string answerFor(const std::string& question, const ProsodyFixture& prosody) {
    const std::pair<const char*, std::string> answers[] = {
        {"XMPP username", "alice"},
        {"Domain", "localhost"},
        {"Resource", "bridge"},
        {"Password", "alicepw"},
        {"Connection security", "opportunistic_tls"},
        {"plaintext auth", "yes"},
        {"Connect port", std::to_string(prosody.c2sPort())},
        {"Connect server", "127.0.0.1"},
    };
    for (const auto& [words, answer] : answers)
        if (question.find(words) != std::string::npos) return answer;
    return "-";  // the plugin's default
}

// The pid in the last "purple host started" line of the bridge's log.
long hostPidFrom(Process& bridge) {
    long pid = 0;
    std::regex started("purple host started.*pid=([0-9]+)");
    for (const auto& line : bridge.lines()) {
        std::smatch m;
        if (std::regex_search(line, m, started)) pid = std::stol(m[1]);
    }
    return pid;
}

// The DM room the bridge made for carol with a ghost; empty until there is one.
std::string directRoomFor(const HomeserverDouble& hs) {
    for (const auto& r : hs.requests())
        if (r.operationId == "createRoom" && r.status == 200 && r.body.value("is_direct", false) &&
            r.body.contains("invite") && r.body["invite"].dump().find(kCarol) != std::string::npos)
            return r.response.value("room_id", "");
    return {};
}

bool roomHas(const HomeserverDouble& hs, const std::string& room, const std::string& body, std::string* sender = nullptr) {
    for (const auto& e : hs.timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("body", "") == body) {
            if (sender) *sender = e.value("sender", "");
            return true;
        }
    return false;
}

}  // namespace

TEST_CASE("a Matrix user logs in to XMPP with !login jabber and talks with an XMPP user in a DM, across a host crash") {
    MXBRIDGE_REQUIRE_SPEC();
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("bob", "bobpw");
    std::uint16_t bridgePort = freePort();
    HomeserverDouble hs(homeserverConfig(bridgePort));
    hs.addUser(kCarol);
    TempDir dir("mxbridge-purple-it");
    writeFile(dir / "config.yaml", bridgeConfig(dir, hs, bridgePort));
    Process bridge({.argv = {MXBRIDGE_CLI_PATH, "run", "-c", (dir / "config.yaml").string()},
                    .workDir = dir.path(),
                    .logFile = dir / "mxbridge.log",
                    .name = "mxbridge"});
    bridge.waitForLine("bridge is running", 30s);
    INFO(bridge.lastLines(80));

    std::string dm = hs.createRoom(kCarol, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                            {"invite", json::array({hs.botUserId()})}});
    REQUIRE(hs.waitFor([&] { return hs.members(dm)[hs.botUserId()] == "join"; }, 10s));
    auto say = [&](const std::string& body) -> std::string {
        std::size_t before = botNotices(hs, dm).size();
        hs.sendAsUser(dm, kCarol, {{"msgtype", "m.text"}, {"body", body}});
        if (!hs.waitFor([&] { return botNotices(hs, dm).size() > before; }, 15s)) return "(no answer)";
        return botNotices(hs, dm).back();
    };

    std::string protocols = say("!protocols");
    CHECK(protocols.find("jabber: XMPP (prpl-jabber)") != std::string::npos);
    CHECK(protocols.find("irc: IRC (prpl-irc)") != std::string::npos);

    // !login jabber: one question per message, as prpl-jabber declares them.
    std::string question = say("!login jabber");
    CHECK(question.find("XMPP username") != std::string::npos);
    std::vector<std::string> asked;
    for (int i = 0; i < 40 && question.find("Logged in") == std::string::npos; ++i) {
        REQUIRE_MESSAGE(question != "(no answer)", "asked so far: " << asked.size());
        REQUIRE_MESSAGE(question.find("fail") == std::string::npos, question);
        asked.push_back(question);
        question = say(answerFor(question, prosody));
    }
    MESSAGE(asked.size() << " questions; last answer: " << question);
    REQUIRE(question.find("Logged in to jabber as alice@localhost/bridge") != std::string::npos);
    bool askedPassword = false;
    for (const auto& q : asked) askedPassword = askedPassword || q.find("Password") != std::string::npos;
    CHECK(askedPassword);
    for (const auto& notice : botNotices(hs, dm)) CHECK(notice.find("alicepw") == std::string::npos);

    // The account signs on through the host.
    REQUIRE(hs.waitFor([&] { return say("!status").find("jabber: connected") != std::string::npos; }, 30s));

    std::filesystem::path commands = dir / "bob.commands";
    Process bob({.argv = {kPython, MXBRIDGE_CHAT_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                          "bob@localhost/pc", "--password", "bobpw", "--to", "alice@localhost", "--commands",
                          commands.string(), "--timeout", "200"},
                 .name = "bob"});
    bob.waitForLine("^READY", 20s);
    std::ofstream(commands, std::ios::app) << "say hello carol, from XMPP\n";

    // A direct chat for carol with bob's ghost, holding bob's line.
    std::string room;
    REQUIRE(hs.waitFor([&] { return !(room = directRoomFor(hs)).empty(); }, 20s));
    std::string ghost;
    REQUIRE(hs.waitFor([&] { return roomHas(hs, room, "hello carol, from XMPP", &ghost); }, 20s));
    CHECK(ghost == "@purple_jabber.bob=40localhost:hs.test");
    CHECK(hs.members(room)[kCarol] == "invite");

    // Carol answers in the DM: bob gets it from alice's account.
    hs.forceJoin(room, kCarol);
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "hi bob <3"}});
    bob.waitForLine("^MSG hi bob <3$", 20s);

    // The host dies: the bridge logs how, starts another, and logs the account in again.
    long pid = hostPidFrom(bridge);
    REQUIRE(pid > 0);
    REQUIRE(::kill(static_cast<pid_t>(pid), SIGKILL) == 0);
    bridge.waitForLine("purple host lost.*killed by signal 9", 15s);
    REQUIRE(hs.waitFor([&] { long now = hostPidFrom(bridge); return now > 0 && now != pid; }, 20s));
    REQUIRE(hs.waitFor([&] { return say("!status").find("jabber: connected") != std::string::npos; }, 30s));
    std::ofstream(commands, std::ios::app) << "say still there after the crash?\n";
    CHECK(hs.waitFor([&] { return roomHas(hs, room, "still there after the crash?"); }, 20s));
    hs.sendAsUser(room, kCarol, {{"msgtype", "m.text"}, {"body", "yes, still here"}});
    bob.waitForLine("^MSG yes, still here$", 20s);

    CHECK(hs.specViolations().empty());
    CHECK(bridge.terminate(15s) == 0);
    CHECK(readFile(bridge.logFile()).find("alicepw") == std::string::npos);
}
