// IrcBridgeFixture: config, processes and the Matrix side of the IRC bridge tests.
#include "irc_bridge_fixture.h"

#include <exception>
#include <iostream>
#include <sstream>
#include <thread>

#include "harness_error.h"
#include "http_client.h"
#include "mxbridge_run.h"
#include "ports.h"
#include "skip.h"

namespace mxbridge::test {

namespace {
constexpr const char* kAsToken = "as_token_for_tests";
constexpr const char* kHsToken = "hs_token_for_tests";

std::string percent(const std::string& s) {
    std::string out;
    const char* hex = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else out += std::string("%") + hex[c >> 4] + hex[c & 15];
    }
    return out;
}
}  // namespace

IrcBridgeFixture::IrcBridgeFixture(IrcBridgeOptions options) : options_(std::move(options)) {
    if (!InspircdFixture::available()) skipTest("inspircd is not installed");
    if (options_.services) services_ = std::make_unique<IrcServicesFixture>();
    else ircd_ = std::make_unique<InspircdFixture>();
    bridgePort_ = freePort();
    HomeserverConfig c;
    c.serverName = kIrcServerName;
    c.asToken = kAsToken;
    c.hsToken = kHsToken;
    c.senderLocalpart = "ircbot";
    c.appserviceUrl = "http://127.0.0.1:" + std::to_string(bridgePort_);
    c.userNamespaceRegex = "@irc_.*:hs\\.test";
    c.aliasNamespaceRegex = "#irc_.*:hs\\.test";
    c.retryInitial = std::chrono::milliseconds(50);
    c.retryMax = std::chrono::milliseconds(400);
    c.authenticatedMediaOnly = options_.authenticatedMediaOnly;
    hs_ = std::make_unique<HomeserverDouble>(c);
}

IrcBridgeFixture::~IrcBridgeFixture() {
    // A test ending in an exception (a readUntil that timed out) shows only the IRC client's
    // lines; the bridge's and the ircd's say why.
    if (std::uncaught_exceptions() > 0) {
        if (bridge_) std::cerr << "--- mxbridge, last lines ---\n" << bridge_->lastLines(60) << "\n";
        if (ircd_ || services_) std::cerr << "--- inspircd, last lines ---\n" << ircd().lastLines(20) << "\n";
        if (services_) std::cerr << "--- atheme, last lines ---\n" << services_->lastLines(20) << "\n";
    }
    stopBridge();
}

void IrcBridgeFixture::startBridge() {
    std::ostringstream y;
    y << "homeserver:\n  url: " << hs_->url() << "\n  server_name: " << kIrcServerName
      << "\n  startup_timeout_seconds: 10\n"
      << "appservice:\n  id: mxbridge\n  bind_address: 127.0.0.1\n  port: " << bridgePort_
      << "\n  public_url: http://127.0.0.1:" << bridgePort_ << "\n  registration_file: "
      << (dir_ / "registration.yaml").string() << "\n  as_token: " << kAsToken << "\n  hs_token: " << kHsToken
      << "\n  bot_localpart: ircbot\n  dispatch_workers: 2\n  admins: [";
    for (std::size_t i = 0; i < options_.admins.size(); ++i) y << (i ? ", " : "") << '"' << options_.admins[i] << '"';
    y << "]\n";
    if (options_.provisioning) y << "provisioning:\n  enabled: true\n  shared_secret: " << kProvisioningSecret << "\n";
    y
      << "database:\n  path: " << (dir_ / "mxbridge.db").string() << "\n"
      << (options_.secretKey.empty() ? "" : "  secret_key: " + options_.secretKey + "\n")
      << "logging:\n  level: debug\n"
      << "bridge:\n  type: irc\n  networks:\n"
      << "    - name: test\n      address: 127.0.0.1\n      port: " << ircd().port()
      << "\n      tls: false\n      bot_nick: bridgebot\n      relay: " << (options_.relay ? "true" : "false")
      << "\n" << (options_.defaultFlood ? "" : "      flood: {burst: 50, interval_ms: 10}\n")
      << "      connect_rate: {per_second: 50, burst: 50}\n"
      << "      condense: {edit_debounce_ms: 200, max_lines_before_paste: 4}\n";
    for (const auto& line : options_.extraNetworkLines) y << "      " << line << "\n";
    bridge_ = runMxbridge(MXBRIDGE_CLI_PATH, dir_.path(), y.str(), ++starts_);
}

std::optional<int> IrcBridgeFixture::stopBridge() {
    std::optional<int> code;
    if (bridge_) code = bridge_->terminate(10s);
    bridge_.reset();
    return code;
}

void IrcBridgeFixture::killBridge() {
    if (bridge_) bridge_->kill9();
    bridge_.reset();
}

std::string IrcBridgeFixture::joinPortal(const std::string& userId, const std::string& channel) {
    const std::string alias = "#irc_" + channel + ":" + kIrcServerName;
    hs_->addUser(userId);
    HttpClient client(hs_->port());
    auto res = client.get("/_matrix/client/v3/directory/room/" + percent(alias),
                          {{"Authorization", std::string("Bearer ") + kAsToken}}, 15s);
    auto room = hs_->roomForAlias(alias);
    if (!room)
        throw HarnessError("no room for " + alias + " (HTTP " + std::to_string(res.status) + " " + res.body +
                           ")\n" + bridge_->lastLines(40));
    hs_->forceJoin(*room, userId);
    return *room;
}

std::string IrcBridgeFixture::say(const std::string& roomId, const std::string& userId, const std::string& body,
                                  const std::string& msgtype) {
    return hs_->sendAsUser(roomId, userId, {{"msgtype", msgtype}, {"body", body}});
}

nlohmann::json IrcBridgeFixture::waitForEvent(const std::string& roomId,
                                              const std::function<bool(const nlohmann::json&)>& pred,
                                              std::chrono::milliseconds timeout) {
    nlohmann::json found;
    bool ok = hs_->waitFor(
        [&] {
            for (const auto& e : hs_->timeline(roomId))
                if (pred(e)) {
                    found = e;
                    return true;
                }
            return false;
        },
        timeout);
    if (!ok) {
        std::string dump;
        for (const auto& e : hs_->timeline(roomId)) dump += e.dump() + "\n";
        throw HarnessError("event not seen in " + roomId + "; timeline:\n" + dump + bridge_->lastLines(40));
    }
    return found;
}

LineSocket IrcBridgeFixture::ircUser(const std::string& nick, const std::string& channel) {
    LineSocket client = ircd().connectClient(nick);
    client.writeLine("JOIN " + channel);
    client.readUntil(" 366 ");
    return client;
}

std::string IrcBridgeFixture::openBotDm(const std::string& userId) {
    std::string dm = hs_->createRoom(userId, {{"preset", "trusted_private_chat"}, {"is_direct", true},
                                              {"invite", nlohmann::json::array({botId()})}});
    if (!hs_->waitFor([&] { return hs_->members(dm)[botId()] == "join"; }, 10s))
        throw HarnessError("the bridge bot did not join the DM of " + userId + "\n" + bridge_->lastLines(40));
    return dm;
}

std::size_t IrcBridgeFixture::botNoticeCount(const std::string& roomId) {
    std::size_t n = 0;
    for (const auto& e : hs_->timeline(roomId))
        if (e.value("type", "") == "m.room.message" && e.value("sender", "") == botId() &&
            e["content"].value("msgtype", "") == "m.notice")
            ++n;
    return n;
}

std::string IrcBridgeFixture::nextBotNotice(const std::string& roomId, std::size_t seen,
                                            std::chrono::milliseconds timeout) {
    std::string body;
    bool ok = hs_->waitFor(
        [&] {
            std::size_t n = 0;
            for (const auto& e : hs_->timeline(roomId)) {
                if (e.value("type", "") != "m.room.message" || e.value("sender", "") != botId() ||
                    e["content"].value("msgtype", "") != "m.notice")
                    continue;
                if (n++ == seen) {
                    body = e["content"].value("body", "");
                    return true;
                }
            }
            return false;
        },
        timeout);
    if (!ok) throw HarnessError("no bot notice #" + std::to_string(seen + 1) + " in " + roomId + "\n" +
                                bridge_->lastLines(40));
    return body;
}

std::string IrcBridgeFixture::command(const std::string& dm, const std::string& userId, const std::string& text) {
    std::size_t seen = botNoticeCount(dm);
    say(dm, userId, text);
    return nextBotNotice(dm, seen);
}

}  // namespace mxbridge::test
