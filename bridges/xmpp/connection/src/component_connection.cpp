// The component's state machine. Everything in ComponentImpl runs on the loop thread, except
// the snapshot in `info_` (guarded by `infoMutex_`) that info() reads from anywhere.
#include "mxbridge/xmpp/component_connection.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <mutex>
#include <stdexcept>

#include "mxbridge/backoff.h"
#include "mxbridge/xmpp/component_handshake.h"
#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/serializer.h"
#include "mxbridge/xmpp/stanza.h"
#include "mxbridge/xmpp/stanza_id.h"

namespace mxbridge::xmpp {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string_view stateName(ComponentState state) {
    switch (state) {
        case ComponentState::Stopped: return "stopped";
        case ComponentState::Connecting: return "connecting";
        case ComponentState::Handshaking: return "handshaking";
        case ComponentState::Connected: return "connected";
        case ComponentState::WaitingToReconnect: return "waiting to reconnect";
        case ComponentState::Refused: return "refused";
    }
    return "unknown";
}

namespace detail {

namespace {

// Bytes written in one go: large enough to batch a burst, small enough to bound the copy.
constexpr std::size_t kMaxWriteBatch = 64 * 1024;

// One socket's lifetime. Handlers hold it by shared_ptr, so a closed socket's last
// completions (operation_aborted) find it alive, and comparing it with the current one
// tells stale completions apart.
struct Transport {
    explicit Transport(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 16 * 1024> readBuffer{};
    std::string writeBuffer;
    void close() {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }
};

// A stanza waiting to be written. `iqId` is set for requests sendIq() tracks.
struct Queued {
    Element stanza;
    std::string xml;
    std::string iqId;
};

std::string parentDomain(const std::string& jid) {
    auto dot = jid.find('.');
    return dot == std::string::npos ? jid : jid.substr(dot + 1);
}

std::string millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

class ComponentImpl : public std::enable_shared_from_this<ComponentImpl> {
public:
    ComponentImpl(asio::io_context& io, ComponentOptions options, ComponentHandlers handlers)
        : io_(io),
          options_(std::move(options)),
          handlers_(std::move(handlers)),
          resolver_(io),
          connectTimer_(io),
          keepAliveTimer_(io),
          reconnectTimer_(io),
          iqTimer_(io),
          parser_(options_.limits),
          backoff_(BackoffOptions{.initial = options_.initialBackoff,
                                  .max = options_.maxBackoff,
                                  .jitter = options_.backoffJitter}) {
        if (options_.serverDomain.empty()) options_.serverDomain = parentDomain(options_.jid);
    }

    const ComponentOptions& options() const { return options_; }
    asio::io_context& io() { return io_; }

    ComponentInfo info() const {
        std::lock_guard lock(infoMutex_);
        return info_;
    }

    void start() {
        if (wanted_) return;
        wanted_ = true;
        backoff_.reset();
        connect();
    }

    void stop() {
        if (!wanted_ && state_ == ComponentState::Stopped) return;
        wanted_ = false;
        reconnectTimer_.cancel();
        if (state_ == ComponentState::Connected) closeWith(std::string(kCloseStreamTag));
        closeTransport();
        teardown(IqOutcome::Stopped, "the component connection was stopped");
        for (auto& q : queue_)
            if (q.iqId.empty()) failSend(q.stanza, "the component connection was stopped");
        queue_.clear();
        setState(ComponentState::Stopped, "stopped");
    }

    // No callback after this: the owner is going away.
    void detach() {
        stop();
        handlers_ = {};
    }

    void send(Element stanza) { enqueue(std::move(stanza), {}); }

    void sendIq(Element iq, IqCallback callback, std::chrono::milliseconds timeout) {
        if (state_ != ComponentState::Connected) {
            IqResponse response;
            response.outcome = wanted_ ? IqOutcome::Disconnected : IqOutcome::Stopped;
            response.error = StanzaError{.type = "wait", .condition = "remote-server-not-found",
                                         .text = "the component is not connected to the XMPP server"};
            if (callback) callback(response);
            return;
        }
        std::string id(iq.attrOr("id"));
        if (id.empty()) {
            id = ids_.next();
            iq.setAttr("id", id);
        }
        if (timeout.count() <= 0) timeout = options_.iqTimeout;
        // The tracker has let go of the request when this runs: counts first, so the caller
        // never sees its own answered request still pending.
        auto counted = [self = shared_from_this(), callback = std::move(callback)](const IqResponse& r) {
            self->updateCounts();
            if (callback) callback(r);
        };
        if (!iqs_.add(id, std::string(iq.attrOr("to")), Clock::now() + timeout, std::move(counted))) {
            failSend(iq, "an IQ with id '" + id + "' is already waiting for its answer");
            return;
        }
        if (!enqueue(std::move(iq), id)) iqs_.forget(id);
        armIqTimer();
    }

private:
    // ---- connecting ----------------------------------------------------------------------

    void connect() {
        closeTransport();
        parser_.reset();
        streamId_.clear();
        auto t = std::make_shared<Transport>(io_);
        transport_ = t;
        setState(ComponentState::Connecting,
                 "connecting to " + options_.host + ":" + std::to_string(options_.port));
        connectTimer_.expires_after(options_.connectTimeout);
        connectTimer_.async_wait([self = shared_from_this(), t](const boost::system::error_code& ec) {
            if (ec || t != self->transport_ || self->state_ == ComponentState::Connected) return;
            self->lost("no answer from " + self->options_.host + ":" + std::to_string(self->options_.port) +
                       " within " + millis(self->options_.connectTimeout) + " (" +
                       std::string(stateName(self->state_)) + ")");
        });
        resolver_.async_resolve(
            options_.host, std::to_string(options_.port),
            [self = shared_from_this(), t](const boost::system::error_code& ec, tcp::resolver::results_type results) {
                if (t != self->transport_) return;
                if (ec) return self->lost("cannot resolve " + self->options_.host + ": " + ec.message());
                asio::async_connect(t->socket, results, [self, t](const boost::system::error_code& ec, const tcp::endpoint&) {
                    if (t != self->transport_) return;
                    if (ec) {
                        return self->lost("cannot connect to " + self->options_.host + ":" +
                                          std::to_string(self->options_.port) + ": " + ec.message());
                    }
                    self->onTcpUp();
                });
            });
    }

    void onTcpUp() {
        boost::system::error_code ignored;
        transport_->socket.set_option(tcp::no_delay(true), ignored);
        setState(ComponentState::Handshaking, "TCP connected; opening the stream");
        control_ = openStreamTag(ns::kComponentAccept, {{.name = "to", .value = options_.jid, .ns = ""}});
        lastReceived_ = Clock::now();
        read(transport_);
        pump();
    }

    void onStreamOpened(const StreamHeader& header) {
        if (header.contentNs != ns::kComponentAccept) {
            return protocolError({StreamErrorCondition::InvalidNamespace,
                                  "the server's stream is in '" + header.contentNs + "', not " +
                                      std::string(ns::kComponentAccept)});
        }
        if (header.id.empty()) {
            return protocolError({StreamErrorCondition::BadFormat, "the server's stream header has no id"});
        }
        streamId_ = header.id;
        Element handshake("handshake", std::string(ns::kComponentAccept));
        handshake.addText(componentHandshake(header.id, options_.secret));
        control_ += serialize(handshake, ns::kComponentAccept);
        pump();
    }

    void onAuthenticated() {
        connectTimer_.cancel();
        backoff_.reset();
        if (everConnected_) ++reconnects_;
        everConnected_ = true;
        setState(ComponentState::Connected, "handshake accepted; component " + options_.jid + " is online");
        armKeepAlive();
        pump();
    }

    // ---- reading -------------------------------------------------------------------------

    void read(std::shared_ptr<Transport> t) {
        t->socket.async_read_some(asio::buffer(t->readBuffer), [self = shared_from_this(), t](
                                                                    const boost::system::error_code& ec, std::size_t n) {
            if (t != self->transport_) return;
            if (ec) {
                return self->lost(ec == asio::error::eof ? "the server closed the connection"
                                                         : "connection lost: " + ec.message());
            }
            self->lastReceived_ = Clock::now();
            self->parser_.feed(std::string_view(t->readBuffer.data(), n));
            self->drainEvents();
            if (t == self->transport_) self->read(t);
        });
    }

    void drainEvents() {
        auto t = transport_;
        while (t == transport_) {
            auto event = parser_.next();
            if (!event) break;
            switch (event->kind) {
                case StreamEvent::Kind::Opened: onStreamOpened(event->header); break;
                case StreamEvent::Kind::Stanza: onStanza(std::move(event->stanza)); break;
                case StreamEvent::Kind::Closed: return lost("the server closed the stream");
            }
        }
        if (t == transport_ && parser_.error()) protocolError(*parser_.error());
    }

    void onStanza(Element stanza) {
        if (stanza.is("error", ns::kStreams)) return onStreamError(parseStreamError(stanza));
        if (state_ != ComponentState::Connected) {
            if (stanza.is("handshake", ns::kComponentAccept)) return onAuthenticated();
            return;  // nothing else may come before the handshake
        }
        {
            std::lock_guard lock(infoMutex_);
            ++info_.stanzasReceived;
        }
        if (stanza.xmlns() != ns::kComponentAccept) return;  // not a stanza of this stream
        if (stanza.name() == "iq") return onIq(stanza);
        if (handlers_.onStanza) handlers_.onStanza(stanza);
    }

    void onIq(const Element& iq) {
        std::string_view type = iq.attrOr("type");
        if (type == "result" || type == "error") {
            if (!iqs_.handle(iq) && handlers_.onStanza) handlers_.onStanza(iq);
            updateCounts();
            armIqTimer();
            return;
        }
        if (type != "get" && type != "set") return;  // malformed: never answer, never loop
        bool toUs = iq.attrOr("to") == options_.jid;
        if (toUs && type == "get" && iq.child("ping", ns::kPing)) return send(makeReply(iq, "result"));
        if (toUs && type == "get" && iq.child("query", ns::kDiscoInfo) &&
            iq.child("query", ns::kDiscoInfo)->attrOr("node").empty()) {
            return send(discoInfo(iq));
        }
        if (handlers_.onIq && handlers_.onIq(iq)) return;
        send(makeErrorReply(iq, {.type = "cancel", .condition = "service-unavailable", .text = {}}));
    }

    Element discoInfo(const Element& request) {
        Element reply = makeReply(request, "result");
        Element& query = reply.addChild("query", std::string(ns::kDiscoInfo));
        std::vector<DiscoIdentity> identities{options_.identity};
        identities.insert(identities.end(), options_.moreIdentities.begin(), options_.moreIdentities.end());
        for (const DiscoIdentity& identity : identities)
            query.addChild("identity", std::string(ns::kDiscoInfo))
                .setAttr("category", identity.category)
                .setAttr("type", identity.type)
                .setAttr("name", identity.name);
        std::vector<std::string> features = {std::string(ns::kDiscoInfo), std::string(ns::kPing)};
        features.insert(features.end(), options_.features.begin(), options_.features.end());
        for (const auto& f : features) query.addChild("feature", std::string(ns::kDiscoInfo)).setAttr("var", f);
        return reply;
    }

    void onStreamError(const StreamError& error) {
        bool badConfig = error.condition == StreamErrorCondition::NotAuthorized ||
                         error.condition == StreamErrorCondition::HostUnknown;
        if (!badConfig) return lost("the server ended the stream: " + describe(error), error);
        std::string reason = error.condition == StreamErrorCondition::NotAuthorized
                                 ? "the XMPP server refused the handshake (" + describe(error) +
                                       "): the component secret differs from the server's "
                                       "component_secret for " + options_.jid
                                 : "the XMPP server has no component named " + options_.jid + " (" +
                                       describe(error) + "): add it to the server's configuration";
        closeTransport();
        teardown(IqOutcome::Disconnected, reason);
        wanted_ = false;  // retrying cannot help until the configuration changes
        refusal_ = reason;
        for (auto& q : queue_) failSend(q.stanza, "not sent: " + reason);
        queue_.clear();
        updateCounts();
        setState(ComponentState::Refused, reason, error);
    }

    // Our parser refused the server's input: tell the server why, then start over.
    void protocolError(const StreamError& error) {
        closeWith(serialize(makeStreamError(error), ns::kComponentAccept) + std::string(kCloseStreamTag));
        lost("the server sent what an XMPP stream may not hold: " + describe(error), std::nullopt);
    }

    // ---- writing -------------------------------------------------------------------------

    bool enqueue(Element stanza, std::string iqId) {
        if (!stanza.attr("from")) stanza.setAttr("from", options_.jid);
        if (state_ == ComponentState::Refused) {
            failSend(stanza, "not sent: " + refusal_);
            return false;
        }
        if (queue_.size() >= options_.maxQueuedStanzas) {
            failSend(stanza, "the queue towards the XMPP server is full (" +
                                 std::to_string(options_.maxQueuedStanzas) + " stanzas)");
            return false;
        }
        std::string xml;
        try {
            xml = serialize(stanza, ns::kComponentAccept);
        } catch (const std::invalid_argument& e) {
            failSend(stanza, e.what());
            return false;
        }
        queue_.push_back(Queued{.stanza = std::move(stanza), .xml = std::move(xml), .iqId = std::move(iqId)});
        updateCounts();
        pump();
        return true;
    }

    void pump() {
        auto t = transport_;
        if (!t || writing_) return;
        if (state_ != ComponentState::Handshaking && state_ != ComponentState::Connected) return;
        t->writeBuffer = std::move(control_);
        control_.clear();
        if (state_ == ComponentState::Connected) {
            while (!queue_.empty() && t->writeBuffer.size() < kMaxWriteBatch) {
                t->writeBuffer += queue_.front().xml;
                inFlight_.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        if (t->writeBuffer.empty()) return;
        writing_ = true;
        asio::async_write(t->socket, asio::buffer(t->writeBuffer),
                          [self = shared_from_this(), t](const boost::system::error_code& ec, std::size_t) {
                              if (t != self->transport_) return;
                              self->writing_ = false;
                              if (ec) return self->lost("writing to the server failed: " + ec.message());
                              {
                                  std::lock_guard lock(self->infoMutex_);
                                  self->info_.stanzasSent += self->inFlight_.size();
                              }
                              self->inFlight_.clear();
                              self->updateCounts();
                              self->pump();
                          });
    }

    void failSend(const Element& stanza, const std::string& why) {
        if (handlers_.onSendFailure) handlers_.onSendFailure(stanza, why);
    }

    // ---- keeping alive -------------------------------------------------------------------

    // Looks one interval after the last byte received: quiet that long, we ping; a ping
    // unanswered within pingTimeout ends the link (see ping()).
    void armKeepAlive() {
        auto when = lastReceived_ + options_.pingInterval;
        if (when <= Clock::now()) when = Clock::now() + options_.pingInterval;
        keepAliveTimer_.expires_at(when);
        keepAliveTimer_.async_wait([self = shared_from_this(), t = transport_](const boost::system::error_code& ec) {
            if (ec || t != self->transport_ || self->state_ != ComponentState::Connected) return;
            if (Clock::now() - self->lastReceived_ >= self->options_.pingInterval && !self->pinging_) self->ping();
            self->armKeepAlive();
        });
    }

    void ping() {
        Element iq("iq", std::string(ns::kComponentAccept));
        iq.setAttr("type", "get").setAttr("to", options_.serverDomain);
        iq.addChild("ping", std::string(ns::kPing));
        pinging_ = true;
        auto t = transport_;
        sendIq(std::move(iq),
               [self = shared_from_this(), t](const IqResponse& r) {
                   self->pinging_ = false;
                   // Any answer, even an error, proves the server is there.
                   if (r.outcome == IqOutcome::Timeout && t == self->transport_) {
                       self->lost("the server did not answer a ping within " + millis(self->options_.pingTimeout));
                   }
               },
               options_.pingTimeout);
    }

    void armIqTimer() {
        auto next = iqs_.nextDeadline();
        if (!next) {
            iqTimer_.cancel();
            return;
        }
        iqTimer_.expires_at(*next);
        iqTimer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            self->iqs_.expire(Clock::now());
            self->updateCounts();
            self->armIqTimer();
        });
    }

    // ---- losing it -----------------------------------------------------------------------

    // Writes `last` and closes the socket once it is written (or failed); the connection
    // forgets the socket at once. Mid-write there is no clean place for it: just close.
    void closeWith(std::string last) {
        if (!transport_ || writing_) return;
        auto t = std::move(transport_);
        auto bytes = std::make_shared<std::string>(std::move(last));
        asio::async_write(t->socket, asio::buffer(*bytes), [t, bytes](auto, auto) { t->close(); });
    }

    void closeTransport() {
        if (transport_) transport_->close();
        transport_.reset();
        writing_ = false;
    }

    // Forgets the stream: timers, the control bytes, IQs (their answers cannot come on the
    // next stream), and puts what was being written back at the front of the queue.
    void teardown(IqOutcome outcome, const std::string& why) {
        resolver_.cancel();
        connectTimer_.cancel();
        keepAliveTimer_.cancel();
        control_.clear();
        pinging_ = false;
        for (auto it = inFlight_.rbegin(); it != inFlight_.rend(); ++it) queue_.push_front(std::move(*it));
        inFlight_.clear();
        // Requests not written yet go too: their callers are told now, not after a reconnect.
        std::erase_if(queue_, [](const Queued& q) { return !q.iqId.empty(); });
        iqs_.failAll(outcome, why);
        iqTimer_.cancel();
        updateCounts();
    }

    void lost(const std::string& why, std::optional<StreamError> streamError = std::nullopt) {
        closeTransport();
        teardown(IqOutcome::Disconnected, why);
        if (!wanted_) return;
        auto delay = backoff_.next();
        setState(ComponentState::WaitingToReconnect, why + "; reconnecting in " + millis(delay), streamError, delay);
        reconnectTimer_.expires_after(delay);
        reconnectTimer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || !self->wanted_ || self->state_ != ComponentState::WaitingToReconnect) return;
            self->connect();
        });
    }

    // ---- reporting -----------------------------------------------------------------------

    void setState(ComponentState state, std::string reason, std::optional<StreamError> streamError = std::nullopt,
                  std::chrono::milliseconds retryIn = {}) {
        state_ = state;
        {
            std::lock_guard lock(infoMutex_);
            info_.state = state;
            info_.streamId = streamId_;
            info_.reconnects = reconnects_;
            info_.pendingIqs = iqs_.pending();
        }
        if (handlers_.onStateChange)
            handlers_.onStateChange(ComponentStateChange{.state = state, .reason = std::move(reason),
                                                         .streamError = std::move(streamError), .retryIn = retryIn});
    }

    void updateCounts() {
        std::lock_guard lock(infoMutex_);
        info_.queuedStanzas = queue_.size() + inFlight_.size();
        info_.pendingIqs = iqs_.pending();
    }

    asio::io_context& io_;
    ComponentOptions options_;
    ComponentHandlers handlers_;
    tcp::resolver resolver_;
    asio::steady_timer connectTimer_;
    asio::steady_timer keepAliveTimer_;
    asio::steady_timer reconnectTimer_;
    asio::steady_timer iqTimer_;
    StreamParser parser_;
    Backoff backoff_;
    StanzaIdGenerator ids_;
    IqTracker iqs_;

    std::shared_ptr<Transport> transport_;
    ComponentState state_ = ComponentState::Stopped;
    bool wanted_ = false;
    bool everConnected_ = false;
    std::uint64_t reconnects_ = 0;
    std::string streamId_;
    std::string refusal_;          // why the server refused us, while Refused
    std::string control_;          // header and handshake, written before any stanza
    std::deque<Queued> queue_;     // waiting, in order
    std::deque<Queued> inFlight_;  // in the write under way
    bool writing_ = false;
    bool pinging_ = false;
    Clock::time_point lastReceived_{};

    mutable std::mutex infoMutex_;
    ComponentInfo info_;
};

}  // namespace detail

ComponentConnection::ComponentConnection(asio::io_context& io, ComponentOptions options, ComponentHandlers handlers)
    : impl_(std::make_shared<detail::ComponentImpl>(io, std::move(options), std::move(handlers))) {}

ComponentConnection::~ComponentConnection() {
    if (!impl_) return;
    if (impl_->io().get_executor().running_in_this_thread()) {
        impl_->detach();
    } else {
        asio::post(impl_->io(), [impl = impl_] { impl->detach(); });
    }
}

void ComponentConnection::start() {
    asio::post(impl_->io(), [impl = impl_] { impl->start(); });
}

void ComponentConnection::stop() {
    asio::post(impl_->io(), [impl = impl_] { impl->stop(); });
}

void ComponentConnection::send(Element stanza) {
    asio::post(impl_->io(), [impl = impl_, stanza = std::move(stanza)]() mutable { impl->send(std::move(stanza)); });
}

void ComponentConnection::sendIq(Element iq, IqCallback callback, std::chrono::milliseconds timeout) {
    asio::post(impl_->io(), [impl = impl_, iq = std::move(iq), callback = std::move(callback), timeout]() mutable {
        impl->sendIq(std::move(iq), std::move(callback), timeout);
    });
}

ComponentInfo ComponentConnection::info() const { return impl_->info(); }

ComponentState ComponentConnection::state() const { return impl_->info().state; }

const ComponentOptions& ComponentConnection::options() const { return impl_->options(); }

}  // namespace mxbridge::xmpp
