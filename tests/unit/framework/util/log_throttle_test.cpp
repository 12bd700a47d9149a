// LogThrottle and boundedForLog: what keeps a flood of refusals from flooding the log.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "util/log_text.h"
#include "util/log_throttle.h"

using namespace mxbridge::detail;

TEST_CASE("a throttled warning passes once per interval and then tells how many were held back") {
    LogThrottle throttle(std::chrono::milliseconds(50));
    CHECK(throttle.pass() == std::optional<uint64_t>(0));
    for (int i = 0; i < 1000; ++i) CHECK_FALSE(throttle.pass().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    CHECK(throttle.pass() == std::optional<uint64_t>(1000));
    CHECK_FALSE(throttle.pass().has_value());
}

TEST_CASE("text for the log is kept whole up to its bound and cut beyond it, never inside a UTF-8 character") {
    CHECK(boundedForLog("/_matrix/app/v1/users/@a:b") == "/_matrix/app/v1/users/@a:b");
    std::string path(15 * 1024, 'p');
    std::string cut = boundedForLog(path);
    CHECK(cut.size() < 230);
    CHECK(cut.rfind(std::string(200, 'p'), 0) == 0);
    CHECK(cut.find("(15360 bytes)") != std::string::npos);
    // "é" is two bytes; a cut at 3 would split the second one.
    CHECK(boundedForLog("a\xc3\xa9\xc3\xa9", 4) == "a\xc3\xa9\xe2\x80\xa6(5 bytes)");
}
