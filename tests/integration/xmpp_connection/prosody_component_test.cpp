// The XEP-0114 component connection against a real Prosody: handshake, both directions of a
// conversation with a real XMPP user (slixmpp), IQ tracking, a wrong secret, the server killed
// and back, and a server that stops answering.
#include <doctest/doctest.h>

#include <cstdlib>

#include "component_env.h"
#include "harness_error.h"
#include "mxbridge/xmpp/namespaces.h"
#include "process.h"
#include "prosody_fixture.h"

using namespace mxbridge;
using namespace mxbridge::test;
using xmpp::ComponentState;
using xmpp::Element;
namespace ns = xmpp::ns;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

xmpp::ComponentOptions localOptions(const ProsodyFixture& prosody) {
    xmpp::ComponentOptions o;
    o.host = "127.0.0.1";
    o.port = prosody.componentPort();
    o.jid = ProsodyFixture::kComponentJid;
    o.secret = ProsodyFixture::kComponentSecret;
    o.connectTimeout = 3s;
    o.iqTimeout = 5s;
    o.initialBackoff = 200ms;
    o.maxBackoff = 1s;
    return o;
}

Element message(const std::string& from, const std::string& to, const std::string& body) {
    Element m("message", std::string(ns::kComponentAccept));
    m.setAttr("from", from).setAttr("to", to).setAttr("type", "chat");
    m.addChild("body", std::string(ns::kComponentAccept)).addText(body);
    return m;
}

Element iqGet(const std::string& to, const std::string& childName, std::string_view childNs) {
    Element iq("iq", std::string(ns::kComponentAccept));
    iq.setAttr("type", "get").setAttr("to", to);
    iq.addChild(childName, std::string(childNs));
    return iq;
}

bool isMessage(const Element& e, std::string_view fromPrefix, std::string_view body) {
    return e.name() == "message" && e.attrOr("from").substr(0, fromPrefix.size()) == fromPrefix &&
           e.childText("body", ns::kComponentAccept) == body;
}

bool slixmppAvailable() {
    std::string check = std::string(kPython) + " -c 'import slixmpp' >/dev/null 2>&1";
    return std::system(check.c_str()) == 0;
}

}  // namespace

TEST_CASE("a real XMPP user pings the component, reads its disco#info and talks to it both ways") {
    ProsodyFixture prosody;
    if (!slixmppAvailable()) {
        MESSAGE("skipped: python3-slixmpp is not installed for " << kPython);
        return;
    }
    prosody.registerUser("alice", "alicepw");
    ComponentEnv env(localOptions(prosody));
    env.connection().start();
    REQUIRE_MESSAGE(env.waitState(ComponentState::Connected), env.history() << prosody.logTail());

    const std::string hello = "hello bob <b>&amp; \"friends\"</b> \xE2\x99\xA5";
    Process alice({.argv = {kPython, MXBRIDGE_XMPP_USER_SCRIPT, "--port", std::to_string(prosody.c2sPort()),
                            "--jid", "alice@localhost/test", "--password", "alicepw", "--component",
                            ProsodyFixture::kComponentJid, "--to", "bob@matrix.localhost", "--body", hello},
                   .name = "alice"});
    alice.waitForLine("^READY", 15s);
    alice.waitForLine("^PING matrix.localhost ");
    std::string disco = alice.waitForLine("^DISCO ");
    CHECK(disco.find("identities=gateway/matrix") != std::string::npos);
    CHECK(disco.find("urn:xmpp:ping") != std::string::npos);
    CHECK(disco.find("http://jabber.org/protocol/disco#info") != std::string::npos);

    auto received = env.stanzas.wait([&](const Element& e) { return isMessage(e, "alice@localhost/", hello); });
    REQUIRE_MESSAGE(received, alice.lastLines() << prosody.logTail());
    CHECK(received->attr("to") == "bob@matrix.localhost");
    CHECK(received->attr("type") == "chat");

    const std::string reply = "hi alice </body></message><message to='eve@localhost'> \xF0\x9F\x91\x8B";
    env.connection().send(message("bob@matrix.localhost", std::string(*received->attr("from")), reply));
    alice.waitForLine("^GOT hi alice </body></message><message to='eve@localhost'> \xF0\x9F\x91\x8B$");
    CHECK(alice.waitExit(10s) == 0);
    CHECK(env.sendFailures.all().empty());
}

TEST_CASE("IQs are matched to their answers: results, errors, and a time-out") {
    ProsodyFixture prosody;
    ComponentEnv env(localOptions(prosody));
    env.connection().start();
    REQUIRE_MESSAGE(env.waitState(ComponentState::Connected), env.history() << prosody.logTail());

    auto pong = env.sendIqAndWait(iqGet("localhost", "ping", ns::kPing));
    CHECK(pong.outcome == xmpp::IqOutcome::Result);
    CHECK(pong.stanza.attr("from") == "localhost");

    auto info = env.sendIqAndWait(iqGet("localhost", "query", ns::kDiscoInfo));
    REQUIRE(info.outcome == xmpp::IqOutcome::Result);
    const Element* query = info.stanza.child("query", ns::kDiscoInfo);
    REQUIRE(query != nullptr);
    CHECK_FALSE(query->children("feature", ns::kDiscoInfo).empty());

    // The server routes our own ping back to us, and the connection answers it itself.
    auto self = env.sendIqAndWait(iqGet(ProsodyFixture::kComponentJid, "ping", ns::kPing));
    CHECK(self.outcome == xmpp::IqOutcome::Result);

    // Nobody handles this payload at the server: an error comes back, with its condition.
    auto refused = env.sendIqAndWait(iqGet("localhost", "nothing", "urn:example:nothing"));
    CHECK(refused.outcome == xmpp::IqOutcome::Error);
    CHECK(refused.error.condition == "service-unavailable");

    // To one of the component's own users, whose handler keeps it unanswered: the deadline.
    auto start = std::chrono::steady_clock::now();
    auto silent = env.sendIqAndWait(iqGet("ghost@matrix.localhost", "query", "urn:example:slow"), 400ms);
    CHECK(silent.outcome == xmpp::IqOutcome::Timeout);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    CHECK(env.iqs.wait([](const Element& e) { return e.attr("to") == "ghost@matrix.localhost"; }));
    CHECK(env.connection().info().pendingIqs == 0);
}

TEST_CASE("a wrong secret is refused with a clear error, and not retried") {
    ProsodyFixture prosody;
    auto options = localOptions(prosody);
    options.secret = "not-the-secret";
    ComponentEnv env(options);
    env.connection().start();
    auto refused = env.waitState(ComponentState::Refused);
    REQUIRE_MESSAGE(refused, env.history() << prosody.logTail());
    REQUIRE(refused->streamError);
    CHECK(refused->streamError->condition == xmpp::StreamErrorCondition::NotAuthorized);
    CHECK(refused->reason.find("secret") != std::string::npos);
    CHECK(refused->reason.find("matrix.localhost") != std::string::npos);
    std::size_t seen = env.states.size();
    std::this_thread::sleep_for(1500ms);  // several back-offs' worth
    CHECK_MESSAGE(env.states.size() == seen, env.history());
    CHECK(env.connection().state() == ComponentState::Refused);
    // Nothing waits for a connection that cannot come: sends and IQs fail at once, saying why.
    env.connection().send(message("bob@matrix.localhost", "alice@localhost", "lost?"));
    auto iq = env.sendIqAndWait(iqGet("localhost", "ping", ns::kPing));
    CHECK(iq.outcome == xmpp::IqOutcome::Stopped);
    auto failures = env.sendFailures.all();
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].find("secret") != std::string::npos);
}

TEST_CASE("Prosody killed and restarted: the component reconnects and what was sent meanwhile goes out in order") {
    ProsodyFixture prosody;
    ComponentEnv env(localOptions(prosody));
    env.connection().start();
    REQUIRE_MESSAGE(env.waitState(ComponentState::Connected), env.history() << prosody.logTail());
    std::size_t before = env.states.size();

    prosody.kill();
    auto lost = env.waitState(ComponentState::WaitingToReconnect, 10s, before);
    REQUIRE_MESSAGE(lost, env.history());
    CHECK(lost->retryIn > 0ms);
    // Sent while the server is gone: addressed to the component's own users, so the server
    // hands them back to us once it is up, and we can see the order they went out in.
    for (int i = 1; i <= 3; ++i)
        env.connection().send(message("ghost@matrix.localhost", "echo@matrix.localhost", "queued " + std::to_string(i)));
    auto down = env.sendIqAndWait(iqGet("localhost", "ping", ns::kPing));
    CHECK(down.outcome == xmpp::IqOutcome::Disconnected);
    std::this_thread::sleep_for(1s);  // a few failed attempts against the closed port
    CHECK(env.connection().info().queuedStanzas == 3);

    std::size_t restarting = env.states.size();
    prosody.start();
    REQUIRE_MESSAGE(env.waitState(ComponentState::Connected, 15s, restarting), env.history() << prosody.logTail());
    CHECK(env.connection().info().reconnects == 1);
    REQUIRE(env.stanzas.wait([](const Element& e) { return isMessage(e, "ghost@matrix.localhost", "queued 3"); }));
    std::vector<std::string> bodies;
    for (const auto& s : env.stanzas.all())
        if (s.name() == "message") bodies.push_back(*s.childText("body", ns::kComponentAccept));
    CHECK(bodies == std::vector<std::string>{"queued 1", "queued 2", "queued 3"});
    auto pong = env.sendIqAndWait(iqGet("localhost", "ping", ns::kPing));
    CHECK(pong.outcome == xmpp::IqOutcome::Result);
}

TEST_CASE("a server that stops answering is found dead by the keep-alive ping, and rejoined when it wakes") {
    ProsodyFixture prosody;
    auto options = localOptions(prosody);
    options.pingInterval = 300ms;
    options.pingTimeout = 700ms;
    options.connectTimeout = 1s;
    ComponentEnv env(options);
    env.connection().start();
    REQUIRE_MESSAGE(env.waitState(ComponentState::Connected), env.history() << prosody.logTail());
    // Quiet but alive: pings are answered and the link stays up.
    std::size_t before = env.states.size();
    std::this_thread::sleep_for(1500ms);
    CHECK_MESSAGE(env.states.size() == before, env.history());

    prosody.freeze();
    auto dead = env.waitState(ComponentState::WaitingToReconnect, 5s, before);
    REQUIRE_MESSAGE(dead, env.history());
    CHECK(dead->reason.find("ping") != std::string::npos);
    std::this_thread::sleep_for(1500ms);  // attempts now time out: the port accepts, nobody talks
    std::size_t waking = env.states.size();
    prosody.thaw();
    CHECK_MESSAGE(env.waitState(ComponentState::Connected, 20s, waking), env.history() << prosody.logTail());
}
