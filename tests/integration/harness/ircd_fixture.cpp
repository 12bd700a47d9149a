#include "ircd_fixture.h"

#include <cstdlib>

#include "harness_error.h"
#include "ports.h"
#include "skip.h"

namespace mxbridge::test {

namespace {

std::string defaultBinary(const std::string& configured) {
    if (const char* env = std::getenv("INSPIRCD"); env != nullptr && *env != 0) {
        return env;
    }
    return configured;
}

}  // namespace

InspircdFixture::InspircdFixture() : InspircdFixture(InspircdOptions{}) {}

InspircdFixture::InspircdFixture(InspircdOptions options)
    : options_(std::move(options)), dir_("mxbridge-inspircd") {
    auto binary = findExecutable(defaultBinary(options_.binary));
    if (!binary) {
        skipTest("inspircd is not installed (apt-get install -y inspircd, or set INSPIRCD)");
    }
    binary_ = *binary;
    if (options_.configTemplate.empty()) {
        options_.configTemplate = fixturesDir() / "inspircd.conf";
    }
    port_ = options_.port != 0 ? options_.port : freePort();
    auto filled = [this](const std::filesystem::path& file) {
        std::string text = readFile(file);
        text = replaceAll(std::move(text), "@DIR@", dir_.path().string());
        text = replaceAll(std::move(text), "@PORT@", std::to_string(port_));
        for (const auto& [from, to] : options_.placeholders) text = replaceAll(std::move(text), from, to);
        return text;
    };
    writeFile(dir_ / "inspircd.conf", filled(options_.configTemplate));
    config_ = dir_ / "inspircd.conf";
    if (!options_.mainConfigTemplate.empty()) {
        config_ = dir_ / "inspircd-main.conf";
        writeFile(config_, filled(options_.mainConfigTemplate));
    }
    start();
}

InspircdFixture::~InspircdFixture() {
    if (process_) {
        process_->kill9();
    }
}

bool InspircdFixture::available(const std::string& binary) {
    return findExecutable(defaultBinary(binary)).has_value();
}

void InspircdFixture::start() {
    if (process_) {
        return;
    }
    ++starts_;
    ProcessOptions options;
    options.argv = {binary_.string(), "--config=" + config_.string(), "--nofork",
                    "--runasroot"};
    options.workDir = dir_.path();
    options.logFile = dir_ / ("inspircd-stdout-" + std::to_string(starts_) + ".log");
    options.name = "inspircd";
    process_ = std::make_unique<Process>(std::move(options));
    process_->waitForPort(port_, options_.startTimeout);
}

void InspircdFixture::stop() {
    if (process_) {
        process_->terminate(5s);
        process_.reset();
    }
}

void InspircdFixture::restart() {
    stop();
    start();
}

LineSocket InspircdFixture::connectClient(const std::string& nick) {
    LineSocket client(port_, nick);
    client.setAutoPong(true);
    client.writeLine("NICK " + nick);
    client.writeLine("USER " + nick + " 0 * :" + nick);
    client.readUntil(" 001 " + nick + " ", 10s);
    return client;
}

std::string InspircdFixture::lastLines(std::size_t n) const {
    return process_ ? process_->lastLines(n) : std::string("[inspircd] (not running)\n");
}

}  // namespace mxbridge::test
