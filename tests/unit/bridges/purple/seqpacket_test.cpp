// Frames over a real socketpair: one datagram per message, EOF when the peer closes, an
// oversized datagram dropped whole with the next one still readable.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxbridge/purple/frame.h"
#include "mxbridge/purple/messages.h"
#include "mxbridge/purple/seqpacket.h"

using namespace mxbridge::purple::wire;

TEST_CASE("messages keep their boundaries and the peer's close is an EOF") {
    auto [a, b] = makeSocketPair();
    CHECK((fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);
    std::string first = encode(request(1, Hello{.version = kVersion, .client = "t"}));
    std::string second = encode(Message{.kind = Kind::Request, .id = 2, .type = "ping", .body = {}});
    REQUIRE(writeFrame(a, first) == 0);
    REQUIRE(writeFrame(a, second) == 0);
    ReadResult r1 = readFrame(b);
    ReadResult r2 = readFrame(b);
    REQUIRE(r1.status == ReadStatus::Frame);
    REQUIRE(r2.status == ReadStatus::Frame);
    CHECK(r1.frame == first);
    CHECK(r2.frame == second);

    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
    CHECK(readFrame(b).status == ReadStatus::WouldBlock);
    close(a);
    CHECK(readFrame(b).status == ReadStatus::Closed);
    CHECK(writeFrame(b, first) == EPIPE);
    close(b);
}

TEST_CASE("a datagram above the frame limit is dropped whole") {
    auto [a, b] = makeSocketPair();
    int size = 4 * 1024 * 1024;
    setsockopt(a, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(b, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    std::string big(Limits::kMaxFrameBytes + 100, 'x');
    REQUIRE(writeFrame(a, big) == 0);
    std::string small = encode(Message{.kind = Kind::Event, .id = 3, .type = "t", .body = {}});
    REQUIRE(writeFrame(a, small) == 0);
    CHECK(readFrame(b).status == ReadStatus::Oversized);
    ReadResult next = readFrame(b);
    REQUIRE(next.status == ReadStatus::Frame);
    CHECK(next.frame == small);
    close(a);
    close(b);
}
