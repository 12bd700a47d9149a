// The connection layer against a real InspIRCd: registration, CAP, channels, pacing,
// reconnection with rejoin, and many puppets on one thread.
#include <doctest/doctest.h>

#include <fstream>
#include <boost/asio/post.hpp>
#include <future>
#include <regex>

#include "ircd_fixture.h"
#include "line_socket.h"
#include "mxbridge/irc/connection_pool.h"
#include "test_env.h"

using namespace mxbridge;
using namespace mxbridge::test;
using irc::ConnectionState;
using Clock = std::chrono::steady_clock;

namespace {

bool isPrivmsgFrom(const irc::IrcMessage& m, const std::string& nick, const std::string& text) {
    return m.command == "PRIVMSG" && m.sourceParts().nick == nick && m.param(1) == text;
}

long rssKiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

}  // namespace

TEST_CASE("a connection registers with CAP LS 302 and InspIRCd ACKs server-time and echo-message") {
    InspircdFixture ircd;
    TestEnv env;
    Probe* probe = nullptr;
    auto& conn = env.add(localOptions(ircd.port(), "alice"), &probe);
    conn.start();
    REQUIRE_MESSAGE(probe->waitState(ConnectionState::Connected), probe->history());
    auto info = conn.info();
    CHECK(info.nick == "alice");
    CHECK(info.caps.count("server-time") == 1);
    CHECK(info.caps.count("echo-message") == 1);
    CHECK(info.caps.count("message-tags") == 1);
    CHECK(info.caps.count("sasl") == 0);  // not configured, and InspIRCd here has no m_sasl
    auto states = probe->states();
    REQUIRE(states.size() >= 3);
    CHECK(states[0].state == ConnectionState::Connecting);
    CHECK(states[1].state == ConnectionState::Registering);
    CHECK(probe->waitMessage([](const irc::IrcMessage& m) {
        return m.command == "CAP" && m.param(1) == "ACK" &&
               m.params.back().find("echo-message") != std::string::npos;
    }));
    // The USER line carried the configured username and realname.
    LineSocket bob = ircd.connectClient("bob");
    bob.writeLine("WHOIS alice");
    CHECK(bob.readUntil(" 311 bob alice ").find("aliceu 127.0.0.1 * :Test alice") !=
          std::string::npos);
}

TEST_CASE("a puppet joins a channel, talks to an IRC user and hears the answer") {
    InspircdFixture ircd;
    LineSocket bob = ircd.connectClient("bob");
    bob.writeLine("JOIN #test");
    bob.readUntil("JOIN :?#test");
    TestEnv env;
    Probe* probe = nullptr;
    auto& conn = env.add(localOptions(ircd.port(), "alice"), &probe);
    conn.join("#test");  // before start(): waits for registration
    conn.start();
    bob.readUntil(":alice!aliceu@127.0.0.1 JOIN :?#test");
    conn.send(irc::build::privmsg("#test", "hello bob"));
    bob.readUntil(":alice!\\S+ PRIVMSG #test :hello bob");
    // echo-message: our own line comes back, stamped with server-time.
    auto echo = probe->waitMessage([](auto& m) { return isPrivmsgFrom(m, "alice", "hello bob"); });
    REQUIRE(echo);
    CHECK(echo->tag("time").has_value());
    bob.writeLine("PRIVMSG #test :hi alice");
    auto answer = probe->waitMessage([](auto& m) { return isPrivmsgFrom(m, "bob", "hi alice"); });
    REQUIRE(answer);
    CHECK(answer->tag("time").has_value());
    CHECK(conn.info().channels == std::set<std::string>{"#test"});
}

TEST_CASE("a nick already in use falls back to one with an underscore") {
    InspircdFixture ircd;
    LineSocket dave = ircd.connectClient("dave");
    TestEnv env;
    Probe* probe = nullptr;
    auto& conn = env.add(localOptions(ircd.port(), "dave"), &probe);
    conn.start();
    REQUIRE_MESSAGE(probe->waitState(ConnectionState::Connected), probe->history());
    CHECK(conn.info().nick == "dave_");
    CHECK(probe->waitMessage([](auto& m) { return m.command == "433"; }));
    LineSocket eve = ircd.connectClient("eve");
    eve.writeLine("WHOIS dave_");
    eve.readUntil(" 311 eve dave_ ");
}

TEST_CASE("flood control lets a burst through, then paces lines at the configured interval") {
    InspircdFixture ircd;
    LineSocket bob = ircd.connectClient("bob");
    TestEnv env;
    Probe* probe = nullptr;
    auto options = localOptions(ircd.port(), "alice");
    options.floodBurst = 3;
    options.floodInterval = 120ms;
    auto& conn = env.add(options, &probe);
    conn.start();
    REQUIRE(probe->waitState(ConnectionState::Connected));
    // Registration lines used the bucket; let it refill before measuring.
    std::this_thread::sleep_for(500ms);
    constexpr int kLines = 9;
    for (int i = 0; i < kLines; ++i) conn.send(irc::build::privmsg("bob", "line " + std::to_string(i)));
    std::vector<Clock::time_point> arrivals;
    for (int i = 0; i < kLines; ++i) {
        bob.readUntil("PRIVMSG bob :line " + std::to_string(i) + "$");
        arrivals.push_back(Clock::now());
    }
    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    // The burst arrives together; every later line waits about one interval.
    CHECK(ms(arrivals[2] - arrivals[0]) < 60);
    for (int i = 3; i < kLines; ++i) CHECK(ms(arrivals[i] - arrivals[i - 1]) >= 80);
    auto total = ms(arrivals.back() - arrivals.front());
    CHECK(total >= (kLines - 3) * 120 - 40);
    CHECK(total < (kLines - 3) * 120 + 400);
    MESSAGE("9 lines, burst 3, interval 120 ms: first to last " << total << " ms");
}

TEST_CASE("lines sent while the ircd is down are delivered in order after reconnect and rejoin") {
    InspircdFixture ircd;
    TestEnv env;
    Probe* probe = nullptr;
    auto& conn = env.add(localOptions(ircd.port(), "alice"), &probe);
    conn.join("#test");
    conn.start();
    REQUIRE(probe->waitState(ConnectionState::Connected));
    REQUIRE(probe->waitMessage([](auto& m) { return m.command == "JOIN"; }));

    std::size_t before = probe->stateCount();
    ircd.stop();
    REQUIRE(probe->waitState(ConnectionState::TransientDisconnect, 10s, before));
    for (int i = 1; i <= 5; ++i) conn.send(irc::build::privmsg("#test", "queued " + std::to_string(i)));

    // Hold the loop so the puppet cannot come back before bob is in the channel to listen.
    std::promise<void> release;
    std::promise<void> held;
    boost::asio::post(env.io(), [&] {
        held.set_value();
        release.get_future().wait();
    });
    held.get_future().wait();
    CHECK(conn.info().queuedLines == 5);
    ircd.start();
    LineSocket bob = ircd.connectClient("bob");
    bob.writeLine("JOIN #test");
    bob.readUntil("JOIN :?#test");
    std::size_t reconnectFrom = probe->stateCount();
    release.set_value();

    REQUIRE_MESSAGE(probe->waitState(ConnectionState::Connected, 10s, reconnectFrom), probe->history());
    bob.readUntil(":alice!\\S+ JOIN :?#test");
    for (int i = 1; i <= 5; ++i) {
        auto line = bob.readUntil("PRIVMSG #test :queued");
        CHECK(line.substr(line.size() - 8) == "queued " + std::to_string(i));
    }
    CHECK(conn.info().queuedLines == 0);
    CHECK(conn.info().reconnects >= 1);
}

TEST_CASE("a K-line from an oper ends in Banned and the puppet does not come back") {
    InspircdFixture ircd;
    TestEnv env;
    Probe* probe = nullptr;
    auto& conn = env.add(localOptions(ircd.port(), "alice"), &probe);
    conn.start();
    REQUIRE(probe->waitState(ConnectionState::Connected));
    LineSocket oper = ircd.connectClient("oper");
    oper.writeLine("OPER admin adminpass");
    oper.readUntil(" 381 ");
    oper.writeLine("KLINE aliceu@127.0.0.1 0 :no bots here");
    auto banned = probe->waitState(ConnectionState::Banned, 5s);
    REQUIRE_MESSAGE(banned, probe->history());
    // InspIRCd 3 sends 465 first, then "ERROR :Closing link: (...) [K-lined: reason]".
    CHECK_MESSAGE(banned->reason.find("K-lined: no bots here") != std::string::npos,
                  banned->reason);
    std::this_thread::sleep_for(1s);  // several backoff periods
    CHECK(conn.state() == ConnectionState::Banned);
    CHECK(env.pool().stats().attempts == 1);
    conn.send(irc::build::privmsg("#test", "into the void"));
    std::this_thread::sleep_for(100ms);
    auto failures = probe->sendFailures();
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].error == irc::SendError::Stopped);
}

TEST_CASE("an oper's KILL drops a puppet once: it reconnects and rejoins its channel") {
    InspircdFixture ircd;
    TestEnv env;
    Probe* probe = nullptr;
    auto& conn = env.add(localOptions(ircd.port(), "alice"), &probe);
    conn.join("#killed");
    conn.start();
    REQUIRE(probe->waitState(ConnectionState::Connected));
    LineSocket oper = ircd.connectClient("oper");
    oper.writeLine("OPER admin adminpass");
    oper.readUntil(" 381 ");
    oper.writeLine("JOIN #killed");
    oper.readUntil(" 366 ");
    std::size_t states = probe->stateCount();
    oper.writeLine("KILL alice :mass kill test");
    oper.readUntil(R"(^:alice!\S+ QUIT :Killed)");
    auto lost = probe->waitState(ConnectionState::TransientDisconnect, 5s, states);
    REQUIRE_MESSAGE(lost, probe->history());
    CHECK(lost->reason.find("Killed (oper (mass kill test))") != std::string::npos);
    REQUIRE_MESSAGE(probe->waitState(ConnectionState::Connected, 10s, states), probe->history());
    oper.readUntil(R"(^:alice!\S+ JOIN :?#killed)", 10s);
    conn.send(irc::build::privmsg("#killed", "back"));
    oper.readUntil(R"(^:alice!\S+ PRIVMSG #killed :back$)");
}

TEST_CASE("500 puppets connect to InspIRCd on one loop thread through the connect limiter") {
    InspircdFixture ircd;
    irc::ConnectionPoolOptions poolOptions;
    poolOptions.limiter = {.attemptsPerSecond = 400, .burst = 50};
    TestEnv env(poolOptions);
    constexpr int kCount = 500;
    long rssBefore = rssKiB();
    auto t0 = Clock::now();
    for (int i = 0; i < kCount; ++i) {
        auto options = localOptions(ircd.port(), "p" + std::to_string(i));
        options.pingInterval = 60s;
        options.pingTimeout = 120s;
        env.add(options).start();
    }
    std::size_t maxQueued = 0;
    while (env.pool().stats().connected < kCount && Clock::now() - t0 < 30s) {
        maxQueued = std::max(maxQueued, env.pool().stats().queuedAttempts);
        std::this_thread::sleep_for(5ms);
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    auto stats = env.pool().stats();
    long rssAfter = rssKiB();
    CHECK(stats.connected == kCount);
    CHECK(stats.connections == kCount);
    CHECK(stats.attempts == kCount);
    CHECK(maxQueued > 0);  // the limiter really held attempts back
    // 450 attempts beyond the burst at 400/s take at least ~1.1 s.
    CHECK(elapsed >= 1000ms);
    MESSAGE(kCount << " connections Connected in " << elapsed.count() << " ms; RSS "
                   << rssBefore << " -> " << rssAfter << " KiB (+"
                   << (rssAfter - rssBefore) / kCount << " KiB/connection); max queued "
                   << maxQueued);
}
