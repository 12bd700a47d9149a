// What /health and the log say while the homeserver is away (issue 9, item 13): a WARN line
// when the outage begins, 503 naming it while it lasts, and 200 again once it answers.
#include <doctest/doctest.h>

#include <sstream>

#include "bridge_process.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

int warnLines(const std::string& output, const std::string& words) {
    int n = 0;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);)
        n += line.find("WARN") != std::string::npos && line.find(words) != std::string::npos;
    return n;
}

}  // namespace

TEST_CASE("a homeserver outage is logged at WARN at once and /health answers 503 naming it until the homeserver answers again") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    REQUIRE(client.get("/health").status == 200);
    const std::string userPath = "/_matrix/app/v1/users/" + percentEncode("@probe_known1:hs.test");

    env.hs->goDown();
    // The user query makes the bridge register the ghost with the homeserver, which is gone.
    CHECK(client.get(userPath, bearer()).status != 200);
    AsResponse down = client.get("/health");
    INFO(env.bridge->lastLines());
    CHECK(down.status == 503);
    json why = json::parse(down.body, nullptr, false);
    CHECK(why.value("status", "") == "unhealthy");
    CHECK(why.value("problem", "").find("homeserver unreachable") != std::string::npos);
    CHECK(eventually([&] { return warnLines(env.bridge->output(), "homeserver unreachable") == 1; }, 5s));

    env.hs->comeBack();
    // The first request may still meet a connection the outage reset; the next one gets through.
    CHECK(eventually([&] { return client.get(userPath, bearer()).status == 200; }, 10s));
    CHECK(client.get("/health").status == 200);
    CHECK(eventually([&] { return env.bridge->output().find("recovered: homeserver unreachable") != std::string::npos; }, 5s));
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test
