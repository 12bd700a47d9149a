// The component connection against a scripted server, for what a real Prosody will not do on
// demand: the handshake checked byte for byte, XML an XMPP stream may not hold, the server's
// own stream errors, and a server that accepts the connection and then says nothing.
#include <doctest/doctest.h>

#include "component_env.h"
#include "fake_xmpp_server.h"
#include "mxbridge/xmpp/component_handshake.h"

using namespace mxbridge;
using namespace mxbridge::test;
using xmpp::ComponentState;
using xmpp::StreamErrorCondition;

namespace {

xmpp::ComponentOptions fakeOptions(const FakeXmppServer& server) {
    xmpp::ComponentOptions o;
    o.host = "127.0.0.1";
    o.port = server.port();
    o.jid = "matrix.test";
    o.secret = "bc";
    o.connectTimeout = 1500ms;
    o.initialBackoff = 100ms;
    o.maxBackoff = 300ms;
    return o;
}

// Opens the stream with id "a" and accepts the handshake, which for secret "bc" must be
// SHA-1("abc") in lowercase hex (FIPS 180's test vector).
void handshake(FakeXmppServer& server) {
    server.openStream("a");
    std::string sent = server.readUntil("</handshake>");
    REQUIRE_MESSAGE(sent.find("<handshake>a9993e364706816aba3e25717850c26c9cd0d89d</handshake>") !=
                        std::string::npos,
                    sent);
    server.write("<handshake/>");
}

void streamError(FakeXmppServer& server, std::string_view condition) {
    server.write("<stream:error><" + std::string(condition) +
                 " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
                 "scripted</text></stream:error></stream:stream>");
}

}  // namespace

TEST_CASE("the stream header names the component and the handshake proves the secret") {
    FakeXmppServer server;
    ComponentEnv env(fakeOptions(server));
    env.connection().start();
    REQUIRE(server.accept());
    std::string header = server.openStream("a");
    CHECK(header.find("<stream:stream xmlns='jabber:component:accept'") != std::string::npos);
    CHECK(header.find("xmlns:stream='http://etherx.jabber.org/streams'") != std::string::npos);
    CHECK(header.find("to='matrix.test'") != std::string::npos);
    CHECK(server.readUntil("</handshake>").find(xmpp::componentHandshake("a", "bc")) != std::string::npos);
    server.write("<handshake/>");
    REQUIRE_MESSAGE(env.waitState(ComponentState::Connected), env.history());
    CHECK(env.connection().info().streamId == "a");
}

TEST_CASE("XML a stream may not hold is answered with the stream error, then the component starts over") {
    struct Case {
        const char* what;
        std::string input;
        const char* condition;
    };
    const Case cases[] = {
        {"a comment", "<message from='x@y.test' to='matrix.test'><!-- hi --></message>", "restricted-xml"},
        {"a DOCTYPE-less entity", "<message>&lol9;</message>", "restricted-xml"},
        {"a stanza over the limit", "<message><body>" + std::string(8000, 'x') + "</body></message>",
         "policy-violation"},
        {"invalid UTF-8", "<message><body>\xC3\x28</body></message>", "not-well-formed"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        FakeXmppServer server;
        auto options = fakeOptions(server);
        options.limits.maxStanzaBytes = 4096;
        ComponentEnv env(options);
        env.connection().start();
        REQUIRE(server.accept());
        handshake(server);
        REQUIRE_MESSAGE(env.waitState(ComponentState::Connected), env.history());
        std::size_t before = env.states.size();
        server.write(c.input);
        std::string answer = server.readUntil("</stream:stream>");
        CHECK(answer.find(std::string("<") + c.condition + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'") !=
              std::string::npos);
        CHECK(server.waitClosed());
        auto lost = env.waitState(ComponentState::WaitingToReconnect, 5s, before);
        REQUIRE_MESSAGE(lost, env.history());
        CHECK(lost->reason.find(c.condition) != std::string::npos);
        REQUIRE(server.accept());  // it comes back, with a fresh stream
        handshake(server);
        CHECK(env.waitState(ComponentState::Connected, 5s, before));
    }
}

TEST_CASE("the server's stream errors: conflict is retried, host-unknown stops with a clear reason") {
    FakeXmppServer server;
    ComponentEnv env(fakeOptions(server));
    env.connection().start();
    REQUIRE(server.accept());
    server.openStream("s1");
    server.readUntil("</handshake>");
    streamError(server, "conflict");
    auto retried = env.waitState(ComponentState::WaitingToReconnect);
    REQUIRE_MESSAGE(retried, env.history());
    REQUIRE(retried->streamError);
    CHECK(retried->streamError->condition == StreamErrorCondition::Conflict);
    CHECK(retried->streamError->text == "scripted");
    CHECK(retried->reason.find("conflict: scripted") != std::string::npos);

    REQUIRE(server.accept());
    server.openStream("s2");
    server.readUntil("</handshake>");
    streamError(server, "host-unknown");
    auto refused = env.waitState(ComponentState::Refused);
    REQUIRE_MESSAGE(refused, env.history());
    CHECK(refused->reason.find("no component named matrix.test") != std::string::npos);
    CHECK_FALSE(server.accept(800ms));  // not retried
}

TEST_CASE("a server that accepts and stays silent is left after the connect time-out") {
    FakeXmppServer server;
    ComponentEnv env(fakeOptions(server));
    env.connection().start();
    REQUIRE(server.accept());
    server.readUntil("'>");  // our header; no answer
    auto lost = env.waitState(ComponentState::WaitingToReconnect, 5s);
    REQUIRE_MESSAGE(lost, env.history());
    CHECK(lost->reason.find("within 1500 ms") != std::string::npos);
    CHECK(server.accept());  // and tries again
}
