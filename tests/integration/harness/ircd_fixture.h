// A real InspIRCd on 127.0.0.1 for IRC integration tests, configured from
// tests/fixtures/inspircd.conf (loopback, no lookups, no flood or per-IP limits).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "line_socket.h"
#include "process.h"
#include "temp_dir.h"

namespace mxbridge::test {

struct InspircdOptions {
    // Name or path; the INSPIRCD env var overrides the default.
    std::string binary = "inspircd";
    // Empty: fixturesDir()/inspircd.conf. Placeholders @DIR@ and @PORT@ are filled in.
    std::filesystem::path configTemplate;
    // When set, the server starts with this file instead: one that includes
    // @DIR@/inspircd.conf, e.g. the peers' inspircd-services.conf linking services.
    std::filesystem::path mainConfigTemplate;
    // Filled in both files besides @DIR@ and @PORT@, e.g. {"@LINKPORT@", "40123"}.
    std::map<std::string, std::string> placeholders;
    // 0: a free port, kept across restart().
    std::uint16_t port = 0;
    std::chrono::milliseconds startTimeout = 15s;
};

class InspircdFixture {
public:
    // Starts the server and waits until it accepts. Exits the test as skipped (77) when the
    // inspircd binary is not installed; throws HarnessError when it fails to start.
    InspircdFixture();
    explicit InspircdFixture(InspircdOptions options);
    ~InspircdFixture();
    InspircdFixture(const InspircdFixture&) = delete;
    InspircdFixture& operator=(const InspircdFixture&) = delete;

    // True when an inspircd binary can be found (to skip before building other fixtures).
    static bool available(const std::string& binary = "inspircd");

    std::uint16_t port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    Process& process() { return *process_; }
    bool running() const { return process_ != nullptr; }

    void start();
    // SIGTERM, then SIGKILL after 5 s.
    void stop();
    // Same port, same folder: clients see their connection drop and can reconnect.
    void restart();

    // A client connected and registered (NICK/USER, waited for 001), auto-answering PINGs.
    LineSocket connectClient(const std::string& nick);

    // The server's last output lines, for failure messages.
    std::string lastLines(std::size_t n = 50) const;

private:
    InspircdOptions options_;
    std::filesystem::path binary_;
    TempDir dir_;
    std::uint16_t port_ = 0;
    std::filesystem::path config_;  // the file the server starts with
    int starts_ = 0;
    std::unique_ptr<Process> process_;
};

}  // namespace mxbridge::test
