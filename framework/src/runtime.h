// Wires the pieces of a running bridge together: database, journal, dispatcher, connector,
// the appservice API and the homeserver client; checks the homeserver at start and drains
// in-flight work at stop.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "mxbridge/app.h"
#include "mxbridge/config.h"
#include "mxbridge/connector.h"
#include "mxbridge/registration.h"

namespace mxbridge {

// A start-up failure: what to fix, and the process exit code that names it.
class StartupError : public std::runtime_error {
public:
    StartupError(ExitCode code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    ExitCode code() const { return code_; }

private:
    ExitCode code_;
};

class Runtime {
public:
    Runtime(Config config, Registration registration, std::unique_ptr<Connector> connector);
    ~Runtime();

    // Opens the database, replays unfinished work, listens, checks the homeserver and starts
    // the connector. Throws StartupError.
    void start();
    // Stops accepting, lets in-flight transactions commit and handlers finish (bounded), stops.
    void stop();
    uint16_t port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mxbridge
