// IRC accounts as logins, against a real InspIRCd with Atheme services: `!login` in the DM
// with the bot asks for the account and its password, the puppet identifies with SASL, a
// refused password is told once and shown by !status and GET /_mxbridge/v1/state, and logging
// in again with the right one gets the puppet connected and identified.
#include <doctest/doctest.h>

#include <thread>

#include "irc_bridge_fixture.h"
// After the fixture: its homeserver double's HttpResponse comes first (see http_client.h).
#include "http_client.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {

const std::string kAlice = "@alice:hs.test";
constexpr const char* kAccount = "alicia";
constexpr const char* kRightPassword = "right-horse-battery";
constexpr const char* kWrongPassword = "wrong-staple-guess";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Alice's login on network "test" in GET /_mxbridge/v1/state once it is in `state` (null if
// it is not within 30 s); also fails the test if the answer ever holds a password.
json loginStateOnceIn(IrcBridgeFixture& f, const std::string& state) {
    std::string last;
    for (auto deadline = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(100ms)) {
        harness_http::HttpClient monitor(f.bridgePort(), false);
        harness_http::HttpResponse r = monitor.get("/_mxbridge/v1/state",
                                                   {{"Authorization", std::string("Bearer ") + kProvisioningSecret}});
        last = std::to_string(r.status) + " " + r.body;
        CHECK_MESSAGE(!has(r.body, kWrongPassword), r.body);
        CHECK_MESSAGE(!has(r.body, kRightPassword), r.body);
        if (r.status != 200) continue;
        const json body = json::parse(r.body);
        for (const auto& l : body["logins"])
            if (l.value("owner", "") == kAlice && l.value("network", "") == "test" && l.value("state", "") == state)
                return l;
    }
    MESSAGE("the state endpoint last said: " << last);
    return nullptr;
}

// The bot's notices in the DM that say the login was refused.
std::size_t refusalNotices(IrcBridgeFixture& f, const std::string& dm) {
    std::size_t n = 0;
    for (const auto& e : f.hs().timeline(dm))
        if (e.value("sender", "") == f.botId() && e.value("type", "") == "m.room.message" &&
            has(e["content"].value("body", ""), "was refused by the network"))
            ++n;
    return n;
}

// `!login` through its two questions; returns the bot's answer to the password.
std::string logIn(IrcBridgeFixture& f, const std::string& dm, const std::string& password) {
    std::string askAccount = f.command(dm, kAlice, "!login test");
    CHECK_MESSAGE(has(askAccount, "account name"), askAccount);
    std::string askPassword = f.command(dm, kAlice, kAccount);
    CHECK_MESSAGE(has(askPassword, "password"), askPassword);
    return f.command(dm, kAlice, password);
}

}  // namespace

TEST_CASE("a wrong IRC password is told once and shown as bad_credentials; !login with the right one identifies the puppet") {
    IrcBridgeOptions options;
    options.services = true;
    options.provisioning = true;
    options.secretKey = "a-database-secret-key-for-the-irc-login-test";
    IrcBridgeFixture f(options);
    f.services().registerAccount(kAccount, kRightPassword);
    LineSocket bob = f.ircUser("bob", "#logins");
    f.startBridge();
    std::string dm = f.openBotDm(kAlice);

    std::string stored = logIn(f, dm, kWrongPassword);
    CHECK_MESSAGE(has(stored, "Logged in to test as alicia"), stored);
    // SASL refuses it (904): the framework tells Alice in the DM, once.
    REQUIRE_MESSAGE(f.hs().waitFor([&] { return refusalNotices(f, dm) >= 1; }, 30s), f.bridge().lastLines(40));
    json refused = loginStateOnceIn(f, "bad_credentials");
    REQUIRE_MESSAGE(!refused.is_null(), f.bridge().lastLines(40));
    CHECK_MESSAGE(has(refused.value("reason", ""), "SASL"), refused.dump());
    std::string status = f.command(dm, kAlice, "!status");
    CHECK_MESSAGE(has(status, "bad_credentials"), status);
    CHECK_MESSAGE(has(status, "!login test"), status);
    std::this_thread::sleep_for(2s);  // nothing reconnects on its own with a refused password
    CHECK(refusalNotices(f, dm) == 1);

    stored = logIn(f, dm, kRightPassword);
    CHECK_MESSAGE(has(stored, "Logged in to test as alicia"), stored);
    json connected = loginStateOnceIn(f, "connected");
    REQUIRE_MESSAGE(!connected.is_null(), f.bridge().lastLines(40));
    status = f.command(dm, kAlice, "!status");
    CHECK_MESSAGE(has(status, "connected"), status);
    CHECK_MESSAGE(!has(status, "bad_credentials"), status);
    CHECK(refusalNotices(f, dm) == 1);

    // The puppet is on IRC as the account's nick, identified: WHOIS names the account.
    bob.writeLine("WHOIS alicia");
    bob.readUntil(R"( 330 bob alicia alicia )", 10s);
    // Its messages come from that identified nick.
    std::string room = f.joinPortal(kAlice, "#logins");
    f.say(room, kAlice, "identified now");
    bob.readUntil(R"(^:alicia!\S+ PRIVMSG #logins :identified now$)", 20s);

    // No notice of the bot ever showed a password (the answers were redacted).
    for (const auto& e : f.hs().timeline(dm)) {
        if (e.value("sender", "") != f.botId()) continue;
        std::string body = e.dump();
        CHECK_MESSAGE(!has(body, kWrongPassword), body);
        CHECK_MESSAGE(!has(body, kRightPassword), body);
    }
}
