// The host spoken to as the bridge will: hello, the protocols this machine's libpurple
// offers with the login fields each plugin declares, pings, refusals, and its end when the
// bridge's end closes.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <algorithm>

#include "host_session.h"
#include "mxbridge/purple/seqpacket.h"

using namespace mxbridge::test;
using namespace mxbridge::purple;
using namespace std::chrono_literals;

namespace {

const wire::ProtocolInfo* find(const wire::ProtocolList& list, const std::string& id) {
    auto it = std::find_if(list.protocols.begin(), list.protocols.end(), [&](const auto& p) { return p.id == id; });
    return it == list.protocols.end() ? nullptr : &*it;
}

const wire::ProtocolOption* option(const wire::ProtocolInfo& info, const std::string& key) {
    auto it = std::find_if(info.options.begin(), info.options.end(), [&](const auto& o) { return o.key == key; });
    return it == info.options.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("the host says hello with its wire version, pid and libpurple version") {
    HostSession host;
    HostReply hello = host.call("hello", wire::Hello{.version = wire::kVersion, .client = "test"}.toRecord());
    REQUIRE_MESSAGE(hello.ok, hello.code << ": " << hello.text << "\n" << host.log());
    wire::HelloReply reply = wire::HelloReply::fromRecord(hello.body);
    CHECK(reply.version == wire::kVersion);
    CHECK(reply.pid == host.process().pid());
    CHECK(reply.libpurpleVersion.rfind("2.", 0) == 0);

    HostReply other = host.call("hello", wire::Hello{.version = wire::kVersion + 1, .client = "test"}.toRecord());
    CHECK_FALSE(other.ok);
    CHECK(other.code == "bad_request");
}

TEST_CASE("the host lists this machine's protocols with the login fields their plugins declare") {
    HostSession host;
    HostReply reply = host.call("list_protocols");
    REQUIRE_MESSAGE(reply.ok, reply.code << ": " << reply.text << "\n" << host.log());
    wire::ProtocolList list = wire::ProtocolList::fromRecord(reply.body);

    const wire::ProtocolInfo* jabber = find(list, "prpl-jabber");
    REQUIRE(jabber != nullptr);
    CHECK(jabber->name == "XMPP");
    // Optional: XMPP may log in without one (SASL EXTERNAL, anonymous servers).
    CHECK(jabber->password == wire::PasswordUse::Optional);
    REQUIRE(jabber->userSplits.size() >= 2);
    CHECK(jabber->userSplits[0].separator == "@");
    CHECK(jabber->userSplits[1].separator == "/");
    const wire::ProtocolOption* server = option(*jabber, "connect_server");
    REQUIRE(server != nullptr);
    CHECK(server->kind == wire::OptionKind::String);
    const wire::ProtocolOption* security = option(*jabber, "connection_security");
    REQUIRE(security != nullptr);
    CHECK(security->kind == wire::OptionKind::Choice);
    CHECK(security->choices.size() >= 2);
    const wire::ProtocolOption* port = option(*jabber, "port");
    REQUIRE(port != nullptr);
    CHECK(port->kind == wire::OptionKind::Integer);
    CHECK(port->defaultValue == "5222");

    const wire::ProtocolInfo* irc = find(list, "prpl-irc");
    REQUIRE(irc != nullptr);
    CHECK(irc->name == "IRC");
    CHECK(irc->password == wire::PasswordUse::Optional);
    REQUIRE(irc->userSplits.size() == 1);
    CHECK(irc->userSplits[0].separator == "@");
    CHECK(irc->userSplits[0].defaultValue == "irc.libera.chat");
    const wire::ProtocolOption* ircPort = option(*irc, "port");
    REQUIRE(ircPort != nullptr);
    CHECK(ircPort->defaultValue == "6667");
    const wire::ProtocolOption* ssl = option(*irc, "ssl");
    REQUIRE(ssl != nullptr);
    CHECK(ssl->kind == wire::OptionKind::Boolean);
    CHECK(ssl->defaultValue == "false");
    MESSAGE(list.protocols.size() << " protocols");
    // Reading the declarations trips none of libpurple's assertions (it asserts when asked
    // whether a non-text option is masked).
    CHECK(host.log().find("CRITICAL") == std::string::npos);
}

TEST_CASE("the host answers pings, refuses what it does not know, and survives a bad frame") {
    HostSession host;
    CHECK(host.call("ping").ok);
    HostReply unknown = host.call("make_coffee");
    CHECK_FALSE(unknown.ok);
    CHECK(unknown.code == "bad_request");
    HostReply noAccount = host.call("send_im", wire::SendIm{.account = "nobody", .who = "x", .html = "y"}.toRecord());
    CHECK(noAccount.code == "unknown_account");
    HostReply badLogin = host.call("login", wire::Record().set("account", "a1"));
    CHECK(badLogin.code == "bad_request");
    CHECK(badLogin.text.find("protocol") != std::string::npos);
    HostReply noProtocol = host.call(
        "login", wire::Login{.account = "a1", .protocol = "prpl-nonesuch", .username = "u", .password = "p", .settings = {}}
                     .toRecord());
    CHECK(noProtocol.code == "unknown_protocol");
    HostReply badOption = host.call("login", wire::Login{.account = "a1",
                                                         .protocol = "prpl-jabber",
                                                         .username = "u@localhost",
                                                         .password = "p",
                                                         .settings = wire::Record().set("no_such_option", 1)}
                                                 .toRecord());
    CHECK(badOption.code == "bad_request");
    CHECK(badOption.text.find("no_such_option") != std::string::npos);

    // Garbage on the wire: dropped, and the host keeps answering.
    REQUIRE(wire::writeFrame(host.process().fd(), "MXP\x01 not a frame") == 0);
    CHECK(host.call("ping").ok);
}

TEST_CASE("the host ends when the bridge's end closes") {
    HostSession host;
    REQUIRE(host.call("ping").ok);
    ::shutdown(host.process().fd(), SHUT_RDWR);
    auto exit = host.process().waitExit(10s);
    REQUIRE_MESSAGE(exit.has_value(), host.log());
    CHECK(exit->signal == 0);
    CHECK(exit->status == 0);
}
