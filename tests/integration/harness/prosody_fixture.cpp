#include "prosody_fixture.h"

#include <signal.h>

#include <cstdlib>
#include <deque>
#include <fstream>

#include "harness_error.h"
#include "ports.h"
#include "skip.h"

namespace mxbridge::test {

namespace {

std::string defaultBinary(const std::string& configured) {
    if (const char* env = std::getenv("PROSODY"); env != nullptr && *env != 0) return env;
    return configured;
}

bool holdsPeers(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "prosody.cfg.lua", ec);
}

std::string tailOf(const std::filesystem::path& file, std::size_t n) {
    std::ifstream in(file);
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
        if (lines.size() > n) lines.pop_front();
    }
    std::string out;
    for (const auto& line : lines) out += "[" + file.filename().string() + "] " + line + "\n";
    return out;
}

}  // namespace

std::optional<std::filesystem::path> peersDir() {
    if (const char* env = std::getenv("MXBRIDGE_PEERS_DIR"); env != nullptr && *env != 0)
        return holdsPeers(env) ? std::optional<std::filesystem::path>(env) : std::nullopt;
    if (holdsPeers(MXBRIDGE_PEERS_DIR_DEFAULT)) return std::filesystem::path(MXBRIDGE_PEERS_DIR_DEFAULT);
    return std::nullopt;
}

ProsodyFixture::ProsodyFixture() : ProsodyFixture(ProsodyOptions{}) {}

// Skips the test (exit 77) when prosody or its config is missing, before the fixture makes
// anything: std::exit runs no destructor, so a folder made first would be left behind.
ProsodyOptions ProsodyFixture::resolveOrSkip(ProsodyOptions options) {
    auto binary = findExecutable(defaultBinary(options.binary));
    if (!binary) skipTest("prosody is not installed (apt-get install -y prosody, or set PROSODY)");
    options.binary = binary->string();
    if (options.configTemplate.empty()) {
        auto peers = peersDir();
        if (!peers)
            skipTest("the peers folder with prosody.cfg.lua is absent (set MXBRIDGE_PEERS_DIR; default "
                     "../shared/peers beside the checkout)");
        options.configTemplate = *peers / "prosody.cfg.lua";
    }
    return options;
}

ProsodyFixture::ProsodyFixture(ProsodyOptions options)
    : options_(resolveOrSkip(std::move(options))), binary_(options_.binary), dir_("mxbridge-prosody") {
    c2sPort_ = freePort();
    componentPort_ = freePort();
    httpPort_ = freePort();
    std::string config = readFile(options_.configTemplate);
    for (const char* expected : {kComponentJid, kComponentSecret, kMucDomain}) {
        if (config.find(expected) == std::string::npos)
            throw HarnessError(options_.configTemplate.string() + " no longer sets up " + expected +
                               "; update ProsodyFixture's constants");
    }
    config = replaceAll(std::move(config), "@DIR@", dir_.path().string());
    config = replaceAll(std::move(config), "@C2S_PORT@", std::to_string(c2sPort_));
    config = replaceAll(std::move(config), "@COMPONENT_PORT@", std::to_string(componentPort_));
    config = replaceAll(std::move(config), "@HTTP_PORT@", std::to_string(httpPort_));
    writeFile(configFile(), config);
    std::filesystem::create_directories(dir_ / "data");
    start();
}

ProsodyFixture::~ProsodyFixture() {
    if (process_) {
        process_->signal(SIGCONT);  // a frozen server cannot die of SIGTERM; SIGKILL works anyway
        process_->kill9();
    }
}

void ProsodyFixture::registerUser(const std::string& name, const std::string& password) {
    prosodyctl({"register", name, kDomain, password});
}

void ProsodyFixture::deleteUser(const std::string& name) {
    prosodyctl({"deluser", name + "@" + kDomain});
}

void ProsodyFixture::prosodyctl(const std::vector<std::string>& args) {
    ProcessOptions options;
    options.argv = {"prosodyctl", "--config", configFile().string()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.workDir = dir_.path();
    options.name = "prosodyctl";
    Process ctl(std::move(options));
    auto status = ctl.waitExit(15s);
    if (status != 0)
        throw HarnessError("prosodyctl " + args.front() + " failed:\n" + ctl.lastLines(20));
}

void ProsodyFixture::start() {
    if (process_) return;
    ++starts_;
    ProcessOptions options;
    options.argv = {binary_.string(), "--config", configFile().string(), "-F"};
    options.workDir = dir_.path();
    options.logFile = dir_ / ("prosody-stdout-" + std::to_string(starts_) + ".log");
    options.name = "prosody";
    process_ = std::make_unique<Process>(std::move(options));
    try {
        process_->waitForPort(componentPort_, options_.startTimeout);
        process_->waitForPort(c2sPort_, options_.startTimeout);
    } catch (const HarnessError& e) {
        throw HarnessError(std::string(e.what()) + "\n" + logTail());
    }
}

void ProsodyFixture::stop() {
    if (!process_) return;
    process_->signal(SIGCONT);
    process_->terminate(5s);
    process_.reset();
}

void ProsodyFixture::kill() {
    if (!process_) return;
    process_->kill9();
    process_.reset();
}

void ProsodyFixture::restart() {
    stop();
    start();
}

void ProsodyFixture::freeze() {
    if (process_) process_->signal(SIGSTOP);
}

void ProsodyFixture::thaw() {
    if (process_) process_->signal(SIGCONT);
}

std::string ProsodyFixture::logTail(std::size_t lines) const {
    return tailOf(dir_ / "prosody.log", lines) + tailOf(dir_ / "prosody.err", lines) +
           (process_ ? process_->lastLines(lines) : std::string("[prosody] (not running)\n"));
}

}  // namespace mxbridge::test
