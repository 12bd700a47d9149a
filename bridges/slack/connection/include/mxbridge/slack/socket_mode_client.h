// Socket Mode: Slack's events over a websocket the app opens, for bridges that cannot take
// HTTP posts from the internet. Each connection starts with apps.connections.open (app-level
// token, a single-use URL), then Boost.Beast over TLS (wss://; ws:// for the test double) on
// the caller's io_context. Every envelope is acknowledged once its event was handed over (the
// handler says it is stored), so an envelope lost to a crash is redelivered by Slack. A
// `disconnect` warning opens the next connection first and closes the old one once the new
// one said hello; a dropped or silent socket is replaced after the framework's back-off.
// Like api/, it includes nothing from the framework but its back-off.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "mxbridge/backoff.h"
#include "mxbridge/slack/socket_mode.h"
#include "mxbridge/slack/web_api_client.h"

namespace mxbridge::slack {

enum class SocketModeState { Connecting, Connected, Disconnected, BadCredentials };

struct SocketModeHandlers {
    // An events_api envelope's event: true once it is stored (the envelope is then
    // acknowledged), false to leave it unacknowledged so Slack delivers it again.
    std::function<bool(const EventCallback& event, int retryAttempt)> onEvent;
    std::function<void(SocketModeState state, const std::string& reason)> onState;
};

struct SocketModeOptions {
    BackoffOptions reconnect{.initial = std::chrono::seconds(1), .max = std::chrono::seconds(60)};
    // Without a frame or pong for this long a socket counts as dead (Beast pings it halfway).
    std::chrono::seconds idleTimeout{30};
    // How long a socket Slack warned about may stay open while its replacement connects.
    std::chrono::seconds replaceWithin{10};
};

class SocketModeClient {
public:
    // `appClient` carries the app-level token (xapp-…) and outlives this client.
    SocketModeClient(boost::asio::io_context& io, WebApiClient& appClient, SocketModeHandlers handlers,
                     SocketModeOptions options = {});
    ~SocketModeClient();
    SocketModeClient(const SocketModeClient&) = delete;
    SocketModeClient& operator=(const SocketModeClient&) = delete;

    void start();  // any thread
    // Closes the sockets and stops reconnecting; runs on the io thread, returns when done
    // posting (the io_context finishes the closes).
    void stop();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace mxbridge::slack
