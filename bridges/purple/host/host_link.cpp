// SPDX-License-Identifier: GPL-2.0-or-later
#include "host_link.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "mxbridge/purple/messages.h"
#include "mxbridge/purple/seqpacket.h"

namespace mxbridge::purple::host {

HostLink::HostLink(int fd, RequestHandler onRequest, std::function<void()> onClosed)
    : fd_(fd), onRequest_(std::move(onRequest)), onClosed_(std::move(onClosed)) {
    // Reads never block the loop (MSG_DONTWAIT). Writes do: the socket is one end of a pair,
    // so a write waits only for the bridge to read, and events stay in order without a queue.
    ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
}

HostLink::~HostLink() {
    if (watch_) g_source_remove(watch_);
    if (fd_ >= 0) ::close(fd_);
}

void HostLink::start() {
    watch_ = g_unix_fd_add(fd_, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), &HostLink::onReadable, this);
}

gboolean HostLink::onReadable(gint, GIOCondition, gpointer self) {
    auto* link = static_cast<HostLink*>(self);
    link->readAll();
    if (link->closed_) {
        link->watch_ = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void HostLink::readAll() {
    // Every frame waiting, then back to the loop.
    for (;;) {
        wire::ReadResult read = wire::readFrame(fd_, /*dontWait=*/true);
        if (read.status == wire::ReadStatus::WouldBlock) break;
        if (read.status == wire::ReadStatus::Closed) {
            close("the bridge closed its end");
            break;
        }
        if (read.status == wire::ReadStatus::Failed) {
            close(std::string("reading the bridge's socket failed: ") + std::strerror(read.error));
            break;
        }
        if (read.status == wire::ReadStatus::Oversized) {
            std::fprintf(stderr, "mxbridge-purple-host: dropped a frame larger than %zu bytes\n",
                         wire::Limits::kMaxFrameBytes);
            continue;
        }
        wire::DecodeResult decoded = wire::decode(read.frame);
        if (!decoded.ok()) {
            // Another wire version means another build of the bridge: nothing it sends can be
            // understood, so stop rather than guess.
            if (decoded.error().code == wire::DecodeError::Code::UnsupportedVersion ||
                decoded.error().code == wire::DecodeError::Code::BadMagic) {
                close("the bridge speaks another wire: " + decoded.error().describe());
                break;
            }
            std::fprintf(stderr, "mxbridge-purple-host: dropped a bad frame: %s\n", decoded.error().describe().c_str());
            continue;
        }
        if (decoded.message().kind != wire::Kind::Request) {
            std::fprintf(stderr, "mxbridge-purple-host: ignored a %s from the bridge\n",
                         std::string(wire::kindName(decoded.message().kind)).c_str());
            continue;
        }
        onRequest_(decoded.message());
        if (closed_) break;
    }
}

void HostLink::reply(const wire::Message& to, wire::Record body) { send(wire::reply(to, std::move(body))); }

void HostLink::fail(const wire::Message& to, std::string code, std::string text) {
    send(wire::errorReply(to, std::move(code), std::move(text)));
}

void HostLink::send(const wire::Message& message) {
    if (closed_) return;
    std::string frame;
    try {
        frame = wire::encode(message);
    } catch (const wire::EncodeError& e) {
        // Too large (an enormous incoming IM): say so instead of sending part of it.
        if (message.kind == wire::Kind::Reply) {
            send(wire::errorReply(message, "internal", e.what()));
            return;
        }
        std::fprintf(stderr, "mxbridge-purple-host: could not send %s: %s\n", message.type.c_str(), e.what());
        return;
    }
    if (int error = wire::writeFrame(fd_, frame); error != 0)
        close(std::string("writing to the bridge failed: ") + std::strerror(error));
}

void HostLink::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    std::fprintf(stderr, "mxbridge-purple-host: %s; stopping\n", why.c_str());
    if (onClosed_) onClosed_();
}

}  // namespace mxbridge::purple::host
