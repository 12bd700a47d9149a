// The RFC 1413 responder: right answers for known pairs, errors for the rest, and no
// patience for garbage or silence.
#include <doctest/doctest.h>

#include "harness_error.h"
#include "ircd_fixture.h"
#include "line_socket.h"
#include "mxbridge/irc/ident_server.h"
#include "test_env.h"

using namespace mxbridge;
using namespace mxbridge::test;
using irc::ConnectionState;

namespace {

irc::IdentServerOptions testOptions() {
    irc::IdentServerOptions o;
    o.address = boost::asio::ip::make_address("127.0.0.1");
    o.port = 0;
    o.timeout = 300ms;
    return o;
}

}  // namespace

TEST_CASE("the ident server answers USERID for registered port pairs and NO-USER otherwise") {
    TestEnv env;
    irc::IdentServer ident(env.io(), testOptions());
    REQUIRE_FALSE(ident.start());
    ident.add(40000, 6667, "alice");

    LineSocket q1(ident.port(), "ident");
    q1.writeLine("40000 , 6667");
    CHECK(q1.readLine(2s) == "40000, 6667 : USERID : UNIX : alice");

    LineSocket q2(ident.port(), "ident");
    q2.writeLine("40001,6667");
    CHECK(q2.readLine(2s) == "40001, 6667 : ERROR : NO-USER");

    ident.remove(40000, 6667);
    LineSocket q3(ident.port(), "ident");
    q3.writeLine("40000, 6667");
    CHECK(q3.readLine(2s) == "40000, 6667 : ERROR : NO-USER");
}

TEST_CASE("the ident server rejects garbage, overlong lines and silent clients") {
    TestEnv env;
    irc::IdentServer ident(env.io(), testOptions());
    REQUIRE_FALSE(ident.start());

    LineSocket garbage(ident.port(), "garbage");
    garbage.writeLine("GET / HTTP/1.0");
    CHECK(garbage.readLine(2s) == "0, 0 : ERROR : INVALID-PORT");

    LineSocket outOfRange(ident.port(), "range");
    outOfRange.writeLine("70000, 6667");
    CHECK(outOfRange.readLine(2s) == "0, 0 : ERROR : INVALID-PORT");

    LineSocket overlong(ident.port(), "overlong");
    overlong.writeLine(std::string(500, '9'));
    CHECK_THROWS_AS(overlong.readLine(2s), HarnessError);  // closed without an answer

    auto start = std::chrono::steady_clock::now();
    LineSocket silent(ident.port(), "silent");
    CHECK_THROWS_AS(silent.readLine(3s), HarnessError);
    CHECK(std::chrono::steady_clock::now() - start < 2s);  // the 300 ms timeout, not ours
}

TEST_CASE("a connection registers its port pair with the ident server while it is up") {
    InspircdFixture ircd;
    TestEnv setup;  // only for its loop: the ident server must outlive the pool's env below
    irc::IdentServer ident(setup.io(), testOptions());
    REQUIRE_FALSE(ident.start());
    irc::ConnectionPoolOptions poolOptions;
    poolOptions.ident = &ident;
    {
        TestEnv env(poolOptions);
        Probe* probe = nullptr;
        auto& conn = env.add(localOptions(ircd.port(), "alice"), &probe);
        conn.start();
        REQUIRE(probe->waitState(ConnectionState::Connected));
        auto info = conn.info();
        CHECK(info.remotePort == ircd.port());
        std::string query = std::to_string(info.localPort) + "," + std::to_string(info.remotePort);
        LineSocket q(ident.port(), "ident");
        q.writeLine(query);
        CHECK(q.readLine(2s) == std::to_string(info.localPort) + ", " +
                                    std::to_string(info.remotePort) + " : USERID : UNIX : aliceu");
        std::size_t before = probe->stateCount();
        conn.stop("bye");
        REQUIRE(probe->waitState(ConnectionState::Stopped, 5s, before));
        CHECK(ident.answer(query).find("NO-USER") != std::string::npos);
    }
}
