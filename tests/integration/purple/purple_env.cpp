#include "purple_env.h"

#include <regex>
#include <sstream>

#include "ports.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

constexpr const char* kServerName = "hs.test";
constexpr const char* kAsToken = "as_token_for_purple_tests";
constexpr const char* kHsToken = "hs_token_for_purple_tests";

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

}  // namespace

PurpleBridgeEnv::PurpleBridgeEnv(const std::string& extraBridgeYaml) {
    std::uint16_t bridgePort = freePort();
    hs_ = std::make_unique<HomeserverDouble>(homeserverConfig(bridgePort));
    hs_->addUser(kCarol);
    std::ostringstream y;
    y << "homeserver:\n  url: " << hs_->url() << "\n  server_name: " << kServerName
      << "\n  startup_timeout_seconds: 10\n"
      << "appservice:\n  id: mxbridge\n  bind_address: 127.0.0.1\n  port: " << bridgePort
      << "\n  public_url: http://127.0.0.1:" << bridgePort << "\n  registration_file: "
      << (dir_ / "registration.yaml").string() << "\n  as_token: " << kAsToken << "\n  hs_token: " << kHsToken
      << "\n  bot_localpart: purplebot\n"
      << "database:\n  path: " << (dir_ / "mxbridge.db").string()
      << "\n  secret_key: a-database-secret-key-for-the-purple-test\n"
      << "logging:\n  level: debug\n"
      << "bridge:\n  type: purple\n  host_program: " << MXBRIDGE_PURPLE_HOST_PATH << "\n  data_dir: "
      << (dir_ / "purple-hosts").string() << "\n  ping_interval_seconds: 1\n  ping_timeout_seconds: 2\n"
      << extraBridgeYaml;
    writeFile(dir_ / "config.yaml", y.str());
    bridge_ = std::make_unique<Process>(ProcessOptions{.argv = {MXBRIDGE_CLI_PATH, "run", "-c", (dir_ / "config.yaml").string()},
                                                       .workDir = dir_.path(),
                                                       .logFile = dir_ / "mxbridge.log",
                                                       .name = "mxbridge"});
    bridge_->waitForLine("bridge is running", std::chrono::seconds(30));
    openDm(kCarol);
}

void PurpleBridgeEnv::openDm(const std::string& user) {
    if (user != kCarol) hs_->addUser(user);
    std::string dm = hs_->createRoom(user, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                            {"invite", json::array({hs_->botUserId()})}});
    if (!hs_->waitFor([&] { return hs_->members(dm)[hs_->botUserId()] == "join"; }, std::chrono::seconds(10)))
        throw std::runtime_error("the bot did not join " + user + "'s DM\n" + bridge_->lastLines(40));
    dms_[user] = dm;
}

PurpleBridgeEnv::~PurpleBridgeEnv() = default;

std::vector<std::string> PurpleBridgeEnv::botNotices(const std::string& room) {
    std::vector<std::string> bodies;
    for (const json& e : hs_->timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("msgtype", "") == "m.notice" &&
            e.value("sender", "") == hs_->botUserId())
            bodies.push_back(e["content"].value("body", ""));
    return bodies;
}

std::string PurpleBridgeEnv::say(const std::string& body, const std::string& user) {
    const std::string& dm = dms_.at(user);
    std::size_t before = botNotices(dm).size();
    hs_->sendAsUser(dm, user, {{"msgtype", "m.text"}, {"body", body}});
    if (!hs_->waitFor([&] { return botNotices(dm).size() > before; }, std::chrono::seconds(15))) return "(no answer)";
    return botNotices(dm).back();
}

std::string PurpleBridgeEnv::login(const std::string& network,
                                   const std::function<std::string(const std::string&)>& answer,
                                   std::vector<std::string>* asked, const std::string& user) {
    auto finished = [](const std::string& notice) {
        return notice.rfind("Logged in", 0) == 0 || notice.rfind("Login ", 0) == 0 || notice == "(no answer)";
    };
    std::string question = say("!login " + network, user);
    // Bounded: no plugin asks 60 questions.
    for (int i = 0; i < 60 && !finished(question); ++i) {
        if (asked) asked->push_back(question);
        question = say(answer(question), user);
    }
    return question;
}

bool PurpleBridgeEnv::waitConnected(const std::string& network, std::chrono::milliseconds timeout,
                                    const std::string& user) {
    return hs_->waitFor([&] { return say("!status", user).find(network + ": connected") != std::string::npos; },
                        timeout);
}

long PurpleBridgeEnv::hostPid(std::size_t host) {
    long pid = 0;
    std::regex started("purple host started host=" + std::to_string(host) + " pid=([0-9]+)");
    for (const auto& line : bridge_->lines()) {
        std::smatch m;
        if (std::regex_search(line, m, started)) pid = std::stol(m[1]);
    }
    return pid;
}

std::size_t PurpleBridgeEnv::logCount(const std::string& text) {
    std::size_t count = 0;
    for (const auto& line : bridge_->lines())
        if (line.find(text) != std::string::npos) ++count;
    return count;
}

std::string PurpleBridgeEnv::directRoom(const std::string& user) { return createdRoomFor(user, true); }

std::string PurpleBridgeEnv::chatRoom(const std::string& user) { return createdRoomFor(user, false); }

std::string PurpleBridgeEnv::createdRoomFor(const std::string& user, bool direct) {
    for (const auto& r : hs_->requests())
        if (r.operationId == "createRoom" && r.status == 200 && r.body.value("is_direct", false) == direct &&
            r.body.contains("invite") && r.body["invite"].dump().find("\"" + user + "\"") != std::string::npos)
            return r.response.value("room_id", "");
    return {};
}

bool PurpleBridgeEnv::roomHas(const std::string& room, const std::string& body, std::string* sender) {
    for (const auto& e : hs_->timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("body", "") == body) {
            if (sender) *sender = e.value("sender", "");
            return true;
        }
    return false;
}

std::size_t PurpleBridgeEnv::messageCount(const std::string& room, const std::string& body) {
    std::size_t n = 0;
    for (const auto& e : hs_->timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("body", "") == body) ++n;
    return n;
}

std::vector<std::string> PurpleBridgeEnv::noticesWith(const std::string& room, const std::string& text) {
    std::vector<std::string> found;
    for (const auto& e : hs_->timeline(room)) {
        std::string body = e["content"].value("body", "");
        if (e.value("type", "") == "m.room.message" && e["content"].value("msgtype", "") == "m.notice" &&
            body.find(text) != std::string::npos)
            found.push_back(body);
    }
    return found;
}

}  // namespace mxbridge::test
