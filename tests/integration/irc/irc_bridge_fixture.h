// One IRC bridge under test: InspIRCd, the homeserver double and `mxbridge run` with an
// `irc` bridge section pointing at that ircd, wired to each other on 127.0.0.1.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "homeserver_double.h"
#include "irc_services_fixture.h"
#include "ircd_fixture.h"
#include "process.h"
#include "temp_dir.h"

namespace mxbridge::test {

inline constexpr const char* kIrcServerName = "hs.test";

inline constexpr const char* kProvisioningSecret = "provisioning-secret-for-irc-tests";

struct IrcBridgeOptions {
    bool relay = false;
    std::vector<std::string> extraNetworkLines;  // e.g. "netsplit_debounce_seconds: 1"
    std::vector<std::string> admins;             // appservice.admins
    bool provisioning = false;                   // with kProvisioningSecret
    // The network's default flood control (burst 5, then one line per 2 s) instead of the
    // tests' fast one: for what must hold with the settings operators actually run.
    bool defaultFlood = false;
    // The homeserver serves media to authenticated clients only (Synapse's frozen media).
    bool authenticatedMediaOnly = false;
    // InspIRCd with Atheme services linked (NickServ accounts, SASL) instead of the plain one.
    bool services = false;
    // database.secret_key: needed to store IRC passwords (logins).
    std::string secretKey;
};

class IrcBridgeFixture {
public:
    explicit IrcBridgeFixture(IrcBridgeOptions options = {});
    ~IrcBridgeFixture();

    InspircdFixture& ircd() { return services_ ? services_->ircd() : *ircd_; }
    // With IrcBridgeOptions::services.
    IrcServicesFixture& services() { return *services_; }
    HomeserverDouble& hs() { return *hs_; }
    Process& bridge() { return *bridge_; }
    std::string bridgeUrl() const { return "http://127.0.0.1:" + std::to_string(bridgePort_); }
    std::uint16_t bridgePort() const { return bridgePort_; }

    void startBridge();
    // SIGTERM; the exit code (nullopt: it had to be killed).
    std::optional<int> stopBridge();
    // kill -9, as a crash.
    void killBridge();

    // A Matrix user joins the portal of `channel` through its alias (#irc_<channel>:hs.test):
    // the homeserver asks the bridge, which creates the room. Returns the room id.
    std::string joinPortal(const std::string& userId, const std::string& channel);
    std::string say(const std::string& roomId, const std::string& userId, const std::string& body,
                    const std::string& msgtype = "m.text");
    // The first timeline event matching `pred`, waited for; throws with the timeline on timeout.
    nlohmann::json waitForEvent(const std::string& roomId, const std::function<bool(const nlohmann::json&)>& pred,
                                std::chrono::milliseconds timeout = 15s);
    std::string ghost(const std::string& nick) const { return "@irc_" + nick + ":" + kIrcServerName; }
    std::string botId() const { return std::string("@ircbot:") + kIrcServerName; }
    // An IRC user connected to the ircd and in `channel` (its op when first there).
    LineSocket ircUser(const std::string& nick, const std::string& channel);

    // A direct chat of `userId` with the bridge bot, once the bot has joined it.
    std::string openBotDm(const std::string& userId);
    // Sends `text` in the bot DM and returns the body of the bot's next notice there.
    std::string command(const std::string& dm, const std::string& userId, const std::string& text);
    // The body of the bot's next notice in `roomId` after the first `seen` ones, waited for.
    std::string nextBotNotice(const std::string& roomId, std::size_t seen, std::chrono::milliseconds timeout = 15s);
    std::size_t botNoticeCount(const std::string& roomId);

private:
    IrcBridgeOptions options_;
    std::unique_ptr<InspircdFixture> ircd_;
    std::unique_ptr<IrcServicesFixture> services_;
    std::unique_ptr<HomeserverDouble> hs_;
    std::unique_ptr<Process> bridge_;
    TempDir dir_{"mxbridge-irc-it"};
    std::uint16_t bridgePort_ = 0;
    int starts_ = 0;
};

}  // namespace mxbridge::test
