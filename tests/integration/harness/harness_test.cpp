// Tests of the integration harness itself: processes, sockets, HTTP, and a real InspIRCd.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "harness_error.h"
#include "http_client.h"
#include "ircd_fixture.h"
#include "line_socket.h"
#include "ports.h"
#include "process.h"
#include "temp_dir.h"

using namespace mxbridge::test;
using Clock = std::chrono::steady_clock;

namespace {

Process shell(const std::string& script) {
    return Process(ProcessOptions{.argv = {"/bin/sh", "-c", script}, .name = "sh"});
}

// Alive means not yet reaped and not a zombie: a killed orphan may wait a moment for init.
bool alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pidField, comm, state;
    if (!(stat >> pidField >> comm >> state)) {
        return false;
    }
    return state != "Z";
}

}  // namespace

TEST_CASE("a process's output is captured, matched line by line and kept for failures") {
    Process p = shell("echo first; echo 'ready on port 42' >&2; echo third; exit 3");
    CHECK(p.waitForLine("ready on port [0-9]+") == "ready on port 42");
    CHECK(p.waitForLine("^third$") == "third");
    CHECK(p.waitExit(5s) == 3);
    const std::string last = p.lastLines(2);
    CHECK(last.find("[sh] ready on port 42") != std::string::npos);
    CHECK(last.find("first") == std::string::npos);
    CHECK(readFile(p.logFile()).find("first\n") != std::string::npos);
}

TEST_CASE("environment additions and the working directory reach the child") {
    TempDir dir;
    Process p(ProcessOptions{.argv = {"sh", "-c", "echo \"$MXB_TEST_VALUE $(pwd)\""},
                             .env = {{"MXB_TEST_VALUE", "forty-two"}},
                             .workDir = dir.path()});
    CHECK(p.waitForLine("forty-two") == "forty-two " + dir.path().string());
}

TEST_CASE("waitForLine fails at its deadline saying what it wanted and what it saw") {
    Process p = shell("echo nothing useful; exec sleep 30");
    const auto start = Clock::now();
    try {
        p.waitForLine("never printed", 300ms);
        FAIL("waitForLine returned");
    } catch (const HarnessError& e) {
        const std::string what = e.what();
        CHECK(what.find("wanted: never printed") != std::string::npos);
        CHECK(what.find("[sh] nothing useful") != std::string::npos);
    }
    CHECK(Clock::now() - start < 3s);
}

TEST_CASE("waitForLine fails at once when the process exits") {
    Process p = shell("echo bye");
    const auto start = Clock::now();
    CHECK_THROWS_AS(p.waitForLine("never", 20s), HarnessError);
    CHECK(Clock::now() - start < 5s);
}

TEST_CASE("terminate stops a process with SIGTERM, and SIGKILLs one that ignores it") {
    Process polite = shell("exec sleep 30");
    CHECK(polite.running());
    CHECK(polite.terminate(5s) == -SIGTERM);

    Process stubborn = shell("trap '' TERM; echo trapped; while :; do sleep 0.1; done");
    stubborn.waitForLine("trapped");
    const auto start = Clock::now();
    CHECK(stubborn.terminate(300ms) == -SIGKILL);
    CHECK(Clock::now() - start < 3s);
}

TEST_CASE("kill9 reports the signal as a negative exit status") {
    Process p = shell("exec sleep 30");
    CHECK(p.waitExit(50ms) == std::nullopt);
    CHECK(p.kill9() == -9);
    CHECK_FALSE(p.running());
}

TEST_CASE("a program that cannot be executed is reported by the constructor") {
    CHECK_THROWS_AS(Process(ProcessOptions{.argv = {"/nonexistent/mxbridge"}}), HarnessError);
    CHECK_THROWS_AS(Process(ProcessOptions{.argv = {"no-such-program-mxbridge-test"}}),
                    HarnessError);
}

TEST_CASE("destroying a Process kills its whole process group") {
    pid_t grandchild = 0;
    {
        Process p = shell("sleep 30 & echo \"child $!\"; wait");
        const std::string line = p.waitForLine("^child [0-9]+$");
        grandchild = std::stoi(line.substr(6));
        REQUIRE(alive(grandchild));
    }
    const auto deadline = Clock::now() + 5s;
    while (alive(grandchild) && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    CHECK_FALSE(alive(grandchild));
}

TEST_CASE("waitForPort returns once the port accepts, and fails if it never does") {
    const std::uint16_t port = freePort();
    CHECK(port > 0);
    Process idle = shell("exec sleep 30");
    CHECK_THROWS_AS(idle.waitForPort(port, 200ms), HarnessError);
}

TEST_CASE("a TempDir is removed with its contents") {
    std::filesystem::path where;
    {
        TempDir dir("mxbridge-harness");
        where = dir.path();
        writeFile(dir / "a.txt", "hello @PORT@");
        CHECK(replaceAll(readFile(dir / "a.txt"), "@PORT@", "6667") == "hello 6667");
    }
    if (std::getenv("MXBRIDGE_KEEP_TEMP") == nullptr) {
        CHECK_FALSE(std::filesystem::exists(where));
    }
}

TEST_CASE("HttpClient sees a server refuse a large upload early, before the body is sent") {
    // A server that answers 401 after the headers and closes without reading the 6 MB body,
    // as an appservice should do with a bad token.
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    std::thread server([listener] {
        int conn = ::accept(listener, nullptr, nullptr);
        std::string head;
        char c;
        while (head.find("\r\n\r\n") == std::string::npos && ::read(conn, &c, 1) == 1) {
            head += c;
        }
        const std::string answer =
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
            "Content-Length: 28\r\nConnection: close\r\n\r\n{\"errcode\":\"M_UNAUTHORIZED\"}";
        [[maybe_unused]] auto sent = ::write(conn, answer.data(), answer.size());
        ::close(conn);
    });

    HttpClient client(ntohs(addr.sin_port));
    const HttpResponse res =
        client.put("/_matrix/app/v1/transactions/1", std::string(6 * 1024 * 1024, 'x'),
                   {{"Authorization", "Bearer wrong"}}, 10s);
    server.join();
    ::close(listener);
    CHECK(res.status == 401);
    CHECK(res.body == "{\"errcode\":\"M_UNAUTHORIZED\"}");
    CHECK_FALSE(res.requestFullySent);
    CHECK(res.bytesSent < 6u * 1024 * 1024);
    CHECK(res.elapsed < 2s);
    MESSAGE("refused after " << res.elapsed.count() << " us, " << res.bytesSent
                             << " bytes sent, write: " << res.writeError);
}

TEST_CASE("two IRC clients on a real InspIRCd see each other's channel messages") {
    if (!InspircdFixture::available()) {
        MESSAGE("inspircd not installed: IRC part not run");
        return;
    }
    InspircdFixture ircd;
    LineSocket alice = ircd.connectClient("alice");
    LineSocket bob = ircd.connectClient("bob");
    alice.writeLine("JOIN #test");
    alice.readUntil(" 366 alice #test ");  // end of NAMES: the join is complete
    bob.writeLine("JOIN #test");
    bob.readUntil(" 366 bob #test ");
    alice.readUntil("^:bob!.* JOIN :?#test");

    alice.writeLine("PRIVMSG #test :hello from alice");
    CHECK(bob.readUntil("PRIVMSG #test :hello from alice").starts_with(":alice!"));

    try {
        bob.readUntil("never sent", 200ms);
        FAIL("readUntil returned");
    } catch (const HarnessError& e) {
        CHECK(std::string(e.what()).find("wanted: never sent") != std::string::npos);
    }

    // After a restart the old connection is gone and a new client gets in on the same port.
    ircd.restart();
    CHECK_THROWS_AS(alice.readUntil("never sent", 5s), HarnessError);
    LineSocket carol = ircd.connectClient("carol");
    carol.writeLine("JOIN #test");
    carol.readUntil(" 366 carol #test ");
}
