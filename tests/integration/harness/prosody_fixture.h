// A real Prosody on 127.0.0.1 for XMPP integration tests, configured from the peers folder's
// prosody.cfg.lua (MXBRIDGE_PEERS_DIR, default ../shared/peers beside the checkout): fresh
// ports and a fresh data folder per fixture, run in the foreground as the test's child and
// killed with it. Never the system's prosody service or its configuration.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace mxbridge::test {

// The folder holding the peers' configs (prosody.cfg.lua…), or nullopt when there is none.
std::optional<std::filesystem::path> peersDir();

struct ProsodyOptions {
    // Name or path; the PROSODY env var overrides the default.
    std::string binary = "prosody";
    // Empty: peersDir()/prosody.cfg.lua. @DIR@, @C2S_PORT@, @COMPONENT_PORT@ and
    // @HTTP_PORT@ are filled in.
    std::filesystem::path configTemplate = {};
    std::chrono::milliseconds startTimeout = 20s;
};

class ProsodyFixture {
public:
    // Writes the config and starts the server, waiting until its c2s and component ports
    // accept. Exits the test as skipped (77) when prosody or the peers folder is missing;
    // throws HarnessError when it fails to start.
    ProsodyFixture();
    explicit ProsodyFixture(ProsodyOptions options);
    ~ProsodyFixture();
    ProsodyFixture(const ProsodyFixture&) = delete;
    ProsodyFixture& operator=(const ProsodyFixture&) = delete;

    // What the peers' config sets up (checked against the file when the fixture starts).
    static constexpr const char* kDomain = "localhost";
    static constexpr const char* kComponentJid = "matrix.localhost";
    static constexpr const char* kComponentSecret = "componentsecret";
    static constexpr const char* kMucDomain = "conference.localhost";

    std::uint16_t c2sPort() const { return c2sPort_; }
    std::uint16_t componentPort() const { return componentPort_; }
    std::uint16_t httpPort() const { return httpPort_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path configFile() const { return dir_ / "prosody.cfg.lua"; }

    // An account on kDomain (prosodyctl register; works while the server runs).
    void registerUser(const std::string& name, const std::string& password);
    // Removes the account (prosodyctl deluser); the running server forgets it too.
    void deleteUser(const std::string& name);

    void start();
    // SIGTERM, then SIGKILL after 5 s.
    void stop();
    // SIGKILL: the server vanishes without closing its streams.
    void kill();
    // Same ports, same data: clients see their connection drop and can come back.
    void restart();
    // SIGSTOP / SIGCONT: a server that still holds its sockets but answers nothing.
    void freeze();
    void thaw();
    bool running() const { return process_ != nullptr; }

    // The end of Prosody's own log files, for failure messages.
    std::string logTail(std::size_t lines = 40) const;

private:
    static ProsodyOptions resolveOrSkip(ProsodyOptions options);
    void prosodyctl(const std::vector<std::string>& args);

    ProsodyOptions options_;
    std::filesystem::path binary_;
    TempDir dir_;
    std::uint16_t c2sPort_ = 0;
    std::uint16_t componentPort_ = 0;
    std::uint16_t httpPort_ = 0;
    int starts_ = 0;
    std::unique_ptr<Process> process_;
};

}  // namespace mxbridge::test
