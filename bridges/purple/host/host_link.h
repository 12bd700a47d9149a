// SPDX-License-Identifier: GPL-2.0-or-later
// mxbridge-purple-host links libpurple, so its own files are GPL-2.0-or-later too.
//
// The host's end of the wire: the inherited SOCK_SEQPACKET socket watched by the GLib main
// loop, each frame decoded and handed to the dispatcher, replies and events written back.
// Runs on the loop's thread only, like everything in the host.
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <string>

#include "mxbridge/purple/frame.h"
#include "mxbridge/purple/messages.h"

namespace mxbridge::purple::host {

class HostLink {
public:
    using RequestHandler = std::function<void(const wire::Message&)>;

    // Takes ownership of `fd`. `onRequest` gets every well-formed request; `onClosed` runs
    // once the bridge's end is gone (EOF, an error, a frame from another wire version).
    HostLink(int fd, RequestHandler onRequest, std::function<void()> onClosed);
    ~HostLink();
    HostLink(const HostLink&) = delete;
    HostLink& operator=(const HostLink&) = delete;

    void start();

    void reply(const wire::Message& to, wire::Record body);
    void fail(const wire::Message& to, std::string code, std::string text);
    // Sends an event with the next event number.
    template <typename T>
    void emit(const T& event) {
        send(wire::event(++events_, event));
    }

private:
    void send(const wire::Message& message);
    static gboolean onReadable(gint fd, GIOCondition condition, gpointer self);
    void readAll();
    void close(const std::string& why);

    int fd_;
    guint watch_ = 0;
    bool closed_ = false;
    std::uint32_t events_ = 0;
    RequestHandler onRequest_;
    std::function<void()> onClosed_;
};

}  // namespace mxbridge::purple::host
