// Matrix -> IRC delivery with the default flood control (burst 5, then one line per 2 s):
// lines a hook accepted reach IRC through a crash and a clean stop, in order, once.
// Its own CTest test: 100 lines at that pace take about three minutes.
#include <doctest/doctest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;

namespace {

const std::string kAlice = "@alice:hs.test";
constexpr int kMessages = 100;

std::string bodyOf(int i) {
    char text[8];
    std::snprintf(text, sizeof text, "m%03d", i);
    return text;
}

// What an IRC user in the channel receives from alice's puppet, in order.
class Received {
public:
    explicit Received(LineSocket& socket) : socket_(socket) {}
    // Reads until `count` lines are in, or the time is up; false then.
    bool readUntilCount(std::size_t count, std::chrono::seconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (numbers_.size() < count && std::chrono::steady_clock::now() < deadline) readFor(1s);
        return numbers_.size() >= count;
    }
    void readFor(std::chrono::milliseconds span) {
        auto deadline = std::chrono::steady_clock::now() + span;
        while (std::chrono::steady_clock::now() < deadline) {
            auto line = socket_.readLine(200ms);
            if (!line) continue;
            std::smatch m;
            static const std::regex kLine(R"(^:alice\[m\]!\S+ PRIVMSG #test :m(\d{3})$)");
            if (std::regex_search(*line, m, kLine)) numbers_.push_back(std::stoi(m[1]));
        }
    }
    const std::vector<int>& numbers() const { return numbers_; }
    std::string summary() const {
        std::string s;
        for (int n : numbers_) s += std::to_string(n) + " ";
        return s;
    }

private:
    LineSocket& socket_;
    std::vector<int> numbers_;
};

}  // namespace

TEST_CASE("100 messages at 10/s reach IRC in order and once, through a kill -9 and a SIGTERM with lines queued") {
    IrcBridgeOptions options;
    options.defaultFlood = true;
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#test");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#test");
    Received received(bob);

    // The homeserver keeps what it could not push while the bridge is down and retries it.
    std::atomic<bool> sent{false};
    std::thread sender([&] {
        for (int i = 1; i <= kMessages; ++i) {
            f.say(room, kAlice, bodyOf(i));
            std::this_thread::sleep_for(100ms);
        }
        sent = true;
    });
    received.readFor(5s);
    f.killBridge();  // the flood queue holds ~40 lines here
    const std::string atKill = received.summary();
    INFO("IRC had before kill -9: " << atKill);
    CHECK(received.numbers().size() < 20);
    f.startBridge();
    sender.join();
    REQUIRE(sent);

    // A clean stop with lines still waiting for the flood control.
    REQUIRE_MESSAGE(received.readUntilCount(received.numbers().size() + 8, 60s), received.summary());
    std::size_t beforeStop = received.numbers().size();
    CHECK(f.stopBridge() == std::optional<int>(0));
    received.readFor(1s);
    const std::string atStop = received.summary();
    INFO("IRC had at SIGTERM: " << atStop);
    CHECK(received.numbers().size() < static_cast<std::size_t>(kMessages) - 10);
    CHECK(received.numbers().size() >= beforeStop);
    f.startBridge();

    // About 2 s per line from here on.
    bool all = received.readUntilCount(kMessages, std::chrono::seconds(2 * kMessages + 30));
    received.readFor(5s);  // nothing comes twice, not even late
    INFO("IRC got: " << received.summary());
    CHECK(all);
    std::vector<int> expected;
    for (int i = 1; i <= kMessages; ++i) expected.push_back(i);
    CHECK(received.numbers() == expected);
    CHECK(f.hs().specViolations().empty());
}
