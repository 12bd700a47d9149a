// The bridge's one connection to the operator's XMPP server, as an external component
// (XEP-0114, jabber:component:accept): TCP, stream header, handshake, then stanzas both ways.
// It keeps itself alive: stanzas wait in order while it is down, it pings the server when
// the line is quiet and reconnects with back-off when the server dies, goes silent or closes
// the stream. It answers pings and disco#info to the component's own address itself.
//
// Threading contract (as the IRC connection's): every callback runs on the io_context's
// thread and must not block. Every public method may be called from any thread; those that
// change anything post to the loop, so they take effect asynchronously but in call order.
// Destroy the ComponentConnection on the loop thread, or after the loop has stopped, and no
// callback fires afterwards.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/xmpp/element.h"
#include "mxbridge/xmpp/iq_tracker.h"
#include "mxbridge/xmpp/stream_error.h"
#include "mxbridge/xmpp/stream_parser.h"

namespace mxbridge::xmpp {

enum class ComponentState {
    Stopped,           // not started, or stop() was called
    Connecting,        // resolving and opening TCP
    Handshaking,       // stream header and handshake sent, waiting for <handshake/>
    Connected,         // authenticated: stanzas flow
    WaitingToReconnect,  // lost or failed; the next attempt is scheduled
    Refused,           // the server refused our secret or name: no retry until start()
};

std::string_view stateName(ComponentState state);

struct ComponentStateChange {
    ComponentState state = ComponentState::Stopped;
    std::string reason;                     // what happened, for logs and the bridge's status
    std::optional<StreamError> streamError;  // the server's, when it sent one
    std::chrono::milliseconds retryIn{0};   // WaitingToReconnect: the back-off chosen
};

struct DiscoIdentity {
    std::string category = "gateway";
    std::string type = "matrix";
    std::string name = "Matrix";
};

struct ComponentOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5347;
    // The component's address, as the server knows it ("matrix.example.com").
    std::string jid;
    std::string secret;
    // Where keep-alive pings go; empty: `jid` without its first label ("example.com").
    std::string serverDomain;

    std::chrono::milliseconds connectTimeout{15'000};  // TCP up to <handshake/>
    std::chrono::milliseconds pingInterval{60'000};    // quiet this long: we ping the server
    std::chrono::milliseconds pingTimeout{30'000};     // unanswered this long: the link is dead
    std::chrono::milliseconds iqTimeout{30'000};       // sendIq()'s default deadline

    std::chrono::milliseconds initialBackoff{1'000};
    std::chrono::milliseconds maxBackoff{300'000};
    double backoffJitter = 0.3;

    // Stanzas waiting to be written, kept across reconnects; send() past this fails loudly.
    std::size_t maxQueuedStanzas = 10'000;
    StreamParserLimits limits;

    DiscoIdentity identity;
    // More identities of the component, e.g. conference/text when it is also a MUC service.
    std::vector<DiscoIdentity> moreIdentities;
    // Features listed in the disco#info answer besides disco#info and ping.
    std::vector<std::string> features;
};

struct ComponentHandlers {
    // Every state change, in order.
    std::function<void(const ComponentStateChange&)> onStateChange;
    // Every message and presence, and IQ answers nobody waits for (type result/error).
    std::function<void(const Element&)> onStanza;
    // An IQ get or set the connection does not answer itself. Return true when you will
    // answer it (send a result or error with its id); false, or no handler, and the sender
    // gets service-unavailable, as RFC 6120 §8.4 wants for what is not understood.
    std::function<bool(const Element&)> onIq;
    // A stanza that will not be written: the queue is full, it could not be serialized, or
    // the connection stopped first. Never silent.
    std::function<void(const Element&, const std::string& why)> onSendFailure;
};

struct ComponentInfo {
    ComponentState state = ComponentState::Stopped;
    std::string streamId;        // of the current stream
    std::size_t queuedStanzas = 0;
    std::size_t pendingIqs = 0;
    std::uint64_t reconnects = 0;  // connections established after the first
    std::uint64_t stanzasReceived = 0;
    std::uint64_t stanzasSent = 0;
};

namespace detail {
class ComponentImpl;
}

class ComponentConnection {
public:
    ComponentConnection(boost::asio::io_context& io, ComponentOptions options, ComponentHandlers handlers);
    ~ComponentConnection();
    ComponentConnection(const ComponentConnection&) = delete;
    ComponentConnection& operator=(const ComponentConnection&) = delete;

    // Connects; after Refused or stop() it starts over.
    void start();
    // Closes the stream (</stream:stream>), then the socket; queued stanzas are reported
    // through onSendFailure and waiting IQs get Stopped.
    void stop();

    // Queues a stanza (message, presence, iq) for the server, in order. Its namespace should
    // be jabber:component:accept; 'from' is set to the component's address when missing.
    // While disconnected (or before start()) it waits for the next connection; a stanza being
    // written when the socket dies is written again after reconnecting (at least once). While
    // Refused it fails at once through onSendFailure, as do the stanzas queued when the
    // refusal came: they cannot go out before the configuration is fixed.
    void send(Element stanza);
    // Sends an IQ get/set and calls `callback` once with its answer, a time-out (`timeout`, 0:
    // the configured iqTimeout) or the disconnection. An id is set when missing. While not
    // Connected the callback gets Disconnected at once: a request must not wait a reconnect.
    void sendIq(Element iq, IqCallback callback, std::chrono::milliseconds timeout = {});

    ComponentInfo info() const;
    ComponentState state() const;
    const ComponentOptions& options() const;

private:
    std::shared_ptr<detail::ComponentImpl> impl_;
};

}  // namespace mxbridge::xmpp
