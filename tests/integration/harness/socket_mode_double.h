// Slack's Socket Mode side for tests: a websocket server on 127.0.0.1 (plain ws://, the one
// liberty a double takes) whose URLs the Slack double hands out from apps.connections.open.
// Each connection gets hello at once; a test then sends envelopes, a disconnect warning, or
// drops a connection, and reads back the acknowledgements the bridge sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxbridge::test {

class SocketModeDouble {
public:
    SocketModeDouble();
    ~SocketModeDouble();

    // A fresh single-use URL, ws://127.0.0.1:<port>/link/?ticket=<n>.
    std::string nextUrl();

    // Connections that completed the websocket handshake, ever, and open now.
    int connectionsOpened() const;
    int connectionsOpen() const;
    // Sends `frame` on the newest open connection; false when none is open.
    bool send(const nlohmann::json& frame);
    // An events_api envelope around `payload`, with its envelope id; sent on the newest one.
    std::string sendEvent(const nlohmann::json& payload, int retryAttempt = 0);
    // Closes the newest connection's TCP socket without a close frame.
    void dropNewest();
    // The envelope ids acknowledged, in order.
    std::vector<std::string> acks() const;
    // Frames received that were not acknowledgements of a sent envelope.
    std::vector<std::string> unexpected() const;

    bool waitFor(const std::function<bool()>& predicate,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace mxbridge::test
