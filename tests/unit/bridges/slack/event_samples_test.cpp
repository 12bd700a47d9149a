// Every Events API delivery shape in Slack's Java SDK samples (MXBRIDGE_SLACK_API_DIR, default
// ../shared/slack-api beside the checkout): with an event_id filled in where the sample holds
// a placeholder, each parses as an event_callback of its own event type. Skipped (77) where
// the folder is absent.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "mxbridge/slack/event_envelope.h"

using namespace mxbridge::slack;
namespace fs = std::filesystem;

namespace {

fs::path samplesDir() {
    const char* env = std::getenv("MXBRIDGE_SLACK_API_DIR");
    fs::path base = env && *env ? fs::path(env) : fs::path(MXBRIDGE_SLACK_API_DIR_DEFAULT);
    return base / "java-slack-sdk-samples";
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

TEST_CASE("every event payload sample is an event_callback of the event type it holds") {
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(samplesDir() / "events")) {
        if (entry.path().extension() != ".json") continue;
        nlohmann::json sample = nlohmann::json::parse(readFile(entry.path()));
        CAPTURE(entry.path().filename().string());
        // The samples are shapes: ids and most outer types are "" placeholders.
        if (sample.value("type", "").empty()) sample["type"] = "event_callback";
        REQUIRE(sample["type"] == "event_callback");
        sample["event_id"] = "Ev0SAMPLE" + std::to_string(checked);
        if (!isSafeSlackId(sample.value("team_id", "x"))) sample["team_id"] = "T0TEAM001";
        if (!isSafeSlackId(sample.value("api_app_id", "x"))) sample["api_app_id"] = "A0APP0001";
        std::string expectedType = sample["event"].value("type", "");
        Envelope envelope = parseEnvelope(sample.dump());
        const auto* error = std::get_if<EnvelopeError>(&envelope);
        REQUIRE_MESSAGE(!error, (error ? error->message : std::string()));
        CHECK(std::get<EventCallback>(envelope).eventType == expectedType);
        ++checked;
    }
    CHECK(checked >= 90);  // 96 in the copy of 2026-12-02
}

TEST_CASE("the Socket Mode events_api sample's payload is the same envelope") {
    nlohmann::json frame = nlohmann::json::parse(readFile(samplesDir() / "socket-mode" / "events_api.json"));
    Envelope envelope = envelopeFromJson(frame.at("payload"));
    REQUIRE(std::holds_alternative<EventCallback>(envelope));
    CHECK(std::get<EventCallback>(envelope).eventId == "Ev01ERKCFKK9");
    CHECK(std::get<EventCallback>(envelope).eventType == "app_mention");
}

int main(int argc, char** argv) {
    if (!fs::is_directory(samplesDir() / "events")) {
        std::cerr << "skipped: no Slack samples at " << samplesDir()
                  << " (set MXBRIDGE_SLACK_API_DIR to the slack-api folder)\n";
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
