// LineReader framing over arbitrary chunking.
#include "mxbridge/irc/line_reader.h"

#include <doctest/doctest.h>

#include <vector>

using namespace mxbridge::irc;

namespace {

std::vector<std::string> drain(LineReader& r) {
    std::vector<std::string> out;
    while (auto l = r.next()) out.push_back(*l);
    return out;
}

}  // namespace

TEST_CASE("lines split across chunks are reassembled and CR LF is stripped") {
    LineReader r;
    r.feed("PING :a\r");
    CHECK(drain(r).empty());
    r.feed("\nPRIV");
    r.feed("MSG #a :b\r\nNOTICE x :y\n");
    CHECK(drain(r) == std::vector<std::string>{"PING :a", "PRIVMSG #a :b", "NOTICE x :y"});
    CHECK(r.pendingBytes() == 0);
}

TEST_CASE("feeding one byte at a time gives the same lines as one big chunk") {
    std::string stream = "A 1\r\nB 2\nC 3\r\r\n\r\n\nD 4\r\n";
    LineReader whole, bytes;
    whole.feed(stream);
    for (char c : stream) bytes.feed(std::string_view(&c, 1));
    auto expected = std::vector<std::string>{"A 1", "B 2", "C 3", "D 4"};
    CHECK(drain(whole) == expected);
    CHECK(drain(bytes) == expected);
}

TEST_CASE("an overlong line is dropped and counted and the next line still arrives") {
    LineReader r(16);
    r.feed(std::string(10, 'a'));
    r.feed(std::string(10, 'b'));
    CHECK(r.droppedLines() == 1);
    CHECK(r.pendingBytes() == 0);
    r.feed(std::string(1000, 'c'));
    CHECK(r.pendingBytes() == 0);
    r.feed("dd\r\nOK 1\r\n");
    CHECK(drain(r) == std::vector<std::string>{"OK 1"});
    CHECK(r.droppedLines() == 1);
}

TEST_CASE("a peer that never sends LF cannot make the reader buffer without bound") {
    LineReader r;
    for (int i = 0; i < 1000; ++i) r.feed(std::string(4096, 'x'));
    CHECK(r.pendingBytes() <= LineReader::kDefaultMaxLineBytes);
    CHECK(r.droppedLines() == 1);
}

TEST_CASE("a line of exactly the maximum length is kept") {
    LineReader r(8);
    r.feed("12345678\n123456789\n");
    CHECK(drain(r) == std::vector<std::string>{"12345678"});
    CHECK(r.droppedLines() == 1);
}
