// A prpl-jabber account in a real Prosody, driven through the host: it signs on, an XMPP
// user (slixmpp) writes to it and the host reports the IM; the host's IM reaches the user and
// comes back as libpurple's own echo; a wrong password is reported as not worth retrying.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <filesystem>
#include <fstream>

#include "host_session.h"
#include "process.h"
#include "prosody_fixture.h"

using namespace mxbridge::test;
using namespace mxbridge::purple;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

wire::Record jabberSettings(const ProsodyFixture& prosody) {
    // Prosody's test config has no TLS and allows PLAIN without it: libpurple must be told
    // both, or it asks (and the host's policy declines every prompt).
    return wire::Record()
        .set("connect_server", "127.0.0.1")
        .set("port", static_cast<std::int64_t>(prosody.c2sPort()))
        .set("connection_security", "opportunistic_tls")
        .set("auth_plain_in_clear", true);
}

bool accountIs(const wire::Record& body, const std::string& account) { return body.stringOr("account", "") == account; }

}  // namespace

TEST_CASE("a prpl-jabber account exchanges IMs with an XMPP user through the host") {
    ProsodyFixture prosody;
    prosody.registerUser("alice", "alicepw");
    prosody.registerUser("bob", "bobpw");
    HostSession host;

    HostReply login = host.call("login", wire::Login{.account = "login-1",
                                                     .protocol = "prpl-jabber",
                                                     .username = "alice@localhost/bridge",
                                                     .password = "alicepw",
                                                     .settings = jabberSettings(prosody)}
                                             .toRecord());
    REQUIRE_MESSAGE(login.ok, login.code << ": " << login.text);
    auto connected = host.waitEvent("account_connected", 30s, [](const auto& b) { return accountIs(b, "login-1"); });
    REQUIRE_MESSAGE(connected.has_value(), "alice did not sign on\n" << host.log() << prosody.logTail());

    TempDir dir("mxbridge-purple-chat");
    std::filesystem::path commands = dir / "bob.commands";
    Process bob({.argv = {kPython, MXBRIDGE_CHAT_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()), "--jid",
                          "bob@localhost/pc", "--password", "bobpw", "--to", "alice@localhost", "--commands",
                          commands.string()},
                 .name = "bob"});
    bob.waitForLine("^READY", 20s);

    SUBCASE("both ways") {
        std::ofstream(commands, std::ios::app) << "say hello from bob\n";
        auto received = host.waitEvent("im_received", 20s, [](const auto& b) {
            return b.stringOr("html", "").find("hello from bob") != std::string::npos;
        });
        REQUIRE_MESSAGE(received.has_value(), host.log());
        wire::ImReceived im = wire::ImReceived::fromRecord(received->body);
        CHECK(im.account == "login-1");
        CHECK(im.who.rfind("bob@localhost", 0) == 0);
        CHECK(im.timestamp > 0);

        HostReply sent = host.call(
            "send_im", wire::SendIm{.account = "login-1", .who = "bob@localhost", .html = "hello from alice"}.toRecord());
        REQUIRE_MESSAGE(sent.ok, sent.code << ": " << sent.text);
        bob.waitForLine("^MSG hello from alice$", 20s);
        auto echo = host.waitEvent("im_sent", 10s, [](const auto& b) {
            return b.stringOr("html", "").find("hello from alice") != std::string::npos;
        });
        REQUIRE(echo.has_value());
        // libpurple answers the resource that last wrote (bob@localhost/pc).
        CHECK(wire::ImSent::fromRecord(echo->body).who.rfind("bob@localhost", 0) == 0);

        // The host ends with the bridge's end; libpurple saves its files on the way out, and
        // neither the password nor a conversation log is among them.
        ::shutdown(host.process().fd(), SHUT_RDWR);
        REQUIRE(host.process().waitExit(10s).has_value());
        std::string accounts = readFile(host.userDir() / "accounts.xml");
        CHECK(accounts.find("alice@localhost") != std::string::npos);
        CHECK(accounts.find("alicepw") == std::string::npos);
        CHECK_FALSE(std::filesystem::exists(host.userDir() / "logs"));
    }

    SUBCASE("logout forgets the account") {
        HostReply out = host.call("logout", wire::Logout{.account = "login-1"}.toRecord());
        REQUIRE(out.ok);
        HostReply after = host.call(
            "send_im", wire::SendIm{.account = "login-1", .who = "bob@localhost", .html = "too late"}.toRecord());
        CHECK(after.code == "unknown_account");
        // A logout is not a disconnection the bridge must react to.
        CHECK_FALSE(host.waitEvent("account_disconnected", 1s).has_value());
    }
}

TEST_CASE("a wrong password is reported as authentication_failed, not worth retrying") {
    ProsodyFixture prosody;
    prosody.registerUser("carol", "carolpw");
    HostSession host;
    HostReply login = host.call("login", wire::Login{.account = "login-2",
                                                     .protocol = "prpl-jabber",
                                                     .username = "carol@localhost/bridge",
                                                     .password = "wrong",
                                                     .settings = jabberSettings(prosody)}
                                             .toRecord());
    REQUIRE(login.ok);
    auto down = host.waitEvent("account_disconnected", 30s, [](const auto& b) { return accountIs(b, "login-2"); });
    REQUIRE_MESSAGE(down.has_value(), host.log());
    wire::AccountDisconnected event = wire::AccountDisconnected::fromRecord(down->body);
    CHECK(event.reason == "authentication_failed");
    CHECK_FALSE(event.retryable);
    CHECK_FALSE(event.text.empty());
    MESSAGE("libpurple said: " << event.text);
    CHECK_FALSE(host.waitEvent("account_connected", 1s).has_value());
}

TEST_CASE("a server that is not there is a network error, worth retrying") {
    HostSession host;
    // Port 1 on 127.0.0.1: nothing listens there (tcpmux is never run), so the connect is refused.
    HostReply login = host.call("login", wire::Login{.account = "login-3",
                                                     .protocol = "prpl-jabber",
                                                     .username = "dave@localhost/bridge",
                                                     .password = "pw",
                                                     .settings = wire::Record()
                                                                     .set("connect_server", "127.0.0.1")
                                                                     .set("port", std::int64_t{1})
                                                                     .set("connection_security", "opportunistic_tls")}
                                             .toRecord());
    REQUIRE(login.ok);
    auto down = host.waitEvent("account_disconnected", 30s, [](const auto& b) { return accountIs(b, "login-3"); });
    REQUIRE_MESSAGE(down.has_value(), host.log());
    wire::AccountDisconnected event = wire::AccountDisconnected::fromRecord(down->body);
    CHECK(event.reason == "network_error");
    CHECK(event.retryable);
}
