#include "mxbridge/slack/socket_mode_client.h"

#include <deque>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace mxbridge::slack {

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct SocketUrl {
    bool tls = true;
    std::string host;
    std::string port;
    std::string target;  // path and query
};

// wss://host[:port]/path?query (ws:// only for the test double on 127.0.0.1).
std::optional<SocketUrl> parseSocketUrl(const std::string& url) {
    SocketUrl out;
    std::string rest;
    if (url.rfind("wss://", 0) == 0) {
        rest = url.substr(6);
    } else if (url.rfind("ws://", 0) == 0) {
        out.tls = false;
        rest = url.substr(5);
    } else {
        return std::nullopt;
    }
    std::size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    std::size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    out.port = colon == std::string::npos ? (out.tls ? "443" : "80") : authority.substr(colon + 1);
    if (out.host.empty() || out.port.empty()) return std::nullopt;
    return out;
}

// One websocket to Slack, plain or TLS; every callback runs on the io_context.
class Session : public std::enable_shared_from_this<Session> {
public:
    using OnFrame = std::function<void(Session&, const std::string&)>;
    using OnClosed = std::function<void(Session&, const std::string&)>;

    Session(net::io_context& io, ssl::context& tls, SocketUrl url, std::chrono::seconds idle, OnFrame onFrame,
            OnClosed onClosed)
        : resolver_(io), url_(std::move(url)), idle_(idle), onFrame_(std::move(onFrame)), onClosed_(std::move(onClosed)) {
        if (url_.tls) secure_ = std::make_unique<websocket::stream<ssl::stream<beast::tcp_stream>>>(io, tls);
        else plain_ = std::make_unique<websocket::stream<beast::tcp_stream>>(io);
    }

    void run() {
        resolver_.async_resolve(url_.host, url_.port, [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
            if (ec) return self->closed("resolving " + self->url_.host + ": " + ec.message());
            self->withStream([&](auto& ws) {
                beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
                beast::get_lowest_layer(ws).async_connect(results, [self](beast::error_code ec, const tcp::endpoint&) {
                    if (ec) return self->closed("connecting: " + ec.message());
                    self->secureThenUpgrade();
                });
            });
        });
    }

    void send(std::string text) {
        queue_.push_back(std::move(text));
        if (!writing_) writeNext();
    }

    void close() {
        if (closing_ || done_) return;
        closing_ = true;
        withStream([&](auto& ws) {
            // Slack does not close TCP after the close handshake: the stream's own time-outs
            // (set at the upgrade) end a close that hangs.
            ws.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
                self->withStream([](auto& s) { beast::get_lowest_layer(s).close(); });
                self->closed("closed by the bridge");
            });
        });
    }

private:
    template <typename F>
    void withStream(F&& f) {
        if (plain_) f(*plain_);
        else f(*secure_);
    }

    void secureThenUpgrade() {
        if (!secure_) return upgrade();
        // SNI: Slack's edge serves several names from one address.
        if (!SSL_set_tlsext_host_name(secure_->next_layer().native_handle(), url_.host.c_str()))
            return closed("TLS: cannot set the server name");
        secure_->next_layer().set_verify_callback(ssl::host_name_verification(url_.host));
        secure_->next_layer().async_handshake(ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->closed("TLS handshake: " + ec.message());
            self->upgrade();
        });
    }

    void upgrade() {
        withStream([&](auto& ws) {
            beast::get_lowest_layer(ws).expires_never();
            websocket::stream_base::timeout timeouts{};
            timeouts.handshake_timeout = std::chrono::seconds(10);
            timeouts.idle_timeout = idle_;
            timeouts.keep_alive_pings = true;
            ws.set_option(timeouts);
            ws.async_handshake(url_.host, url_.target, [self = shared_from_this()](beast::error_code ec) {
                if (ec) return self->closed("websocket handshake: " + ec.message());
                self->read();
            });
        });
    }

    void read() {
        withStream([&](auto& ws) {
            ws.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec) return self->closed(ec == websocket::error::closed ? "closed by Slack" : ec.message());
                std::string text = beast::buffers_to_string(self->buffer_.data());
                self->buffer_.consume(self->buffer_.size());
                self->onFrame_(*self, text);
                if (!self->done_) self->read();
            });
        });
    }

    void writeNext() {
        writing_ = true;
        withStream([&](auto& ws) {
            ws.text(true);
            ws.async_write(net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
                self->queue_.pop_front();
                if (ec) return self->closed("sending: " + ec.message());
                if (self->queue_.empty()) self->writing_ = false;
                else self->writeNext();
            });
        });
    }

    void closed(const std::string& why) {
        if (done_) return;
        done_ = true;
        onClosed_(*this, why);
    }

    tcp::resolver resolver_;
    SocketUrl url_;
    std::chrono::seconds idle_;
    OnFrame onFrame_;
    OnClosed onClosed_;
    std::unique_ptr<websocket::stream<beast::tcp_stream>> plain_;
    std::unique_ptr<websocket::stream<ssl::stream<beast::tcp_stream>>> secure_;
    beast::flat_buffer buffer_;
    std::deque<std::string> queue_;
    bool writing_ = false;
    bool closing_ = false;
    bool done_ = false;
};

}  // namespace

struct SocketModeClient::Impl : std::enable_shared_from_this<SocketModeClient::Impl> {
    Impl(net::io_context& ioContext, WebApiClient& app, SocketModeHandlers h, SocketModeOptions o)
        : io(ioContext), appClient(app), handlers(std::move(h)), options(o), backoff(o.reconnect), retry(ioContext) {
        tls.set_default_verify_paths();
        tls.set_verify_mode(ssl::verify_peer);
    }

    void state(SocketModeState s, const std::string& reason) {
        if (handlers.onState) handlers.onState(s, reason);
    }

    // apps.connections.open, then a socket to the URL it gives (a single-use ticket).
    void open() {
        if (stopped || opening) return;
        opening = true;
        if (!current) state(SocketModeState::Connecting, "");
        appClient.call("apps.connections.open", {}, {}, [weak = weak_from_this()](const WebApiResult& result) {
            if (auto self = weak.lock()) net::post(self->io, [self, result] { self->opened(result); });
        });
    }

    void opened(const WebApiResult& result) {
        opening = false;
        if (stopped) return;
        const auto& failure = result.answer.failure;
        if (failure) {
            if (failure->error == "shutting_down") return;
            if (failure->kind == FailureKind::BadCredentials || failure->kind == FailureKind::MissingScope) {
                state(SocketModeState::BadCredentials,
                      "apps.connections.open: " + failure->message + " (bridge.app_token needs connections:write)");
                return;  // retrying cannot help until the operator changes the token
            }
            return later("apps.connections.open: " + failure->message);
        }
        auto url = parseSocketUrl(result.answer.body.value("url", std::string()));
        if (!url) return later("apps.connections.open gave no usable wss:// URL");
        auto session = std::make_shared<Session>(
            io, tls, *url, options.idleTimeout,
            [weak = weak_from_this()](Session& s, const std::string& text) {
                if (auto self = weak.lock()) self->frame(s, text);
            },
            [weak = weak_from_this()](Session& s, const std::string& why) {
                if (auto self = weak.lock()) self->closed(s, why);
            });
        (current ? replacement : current) = session;
        session->run();
    }

    void frame(Session& session, const std::string& text) {
        SocketFrame parsed = parseSocketFrame(text);
        if (std::get_if<SocketHello>(&parsed)) {
            if (replacement.get() == &session) {
                // The new socket is up: only now is the old one let go.
                retiring = std::move(current);
                current = std::move(replacement);
                retiring->close();
            }
            backoff.reset();
            state(SocketModeState::Connected, "");
            return;
        }
        if (auto* envelope = std::get_if<SocketEnvelope>(&parsed)) {
            const auto* event = std::get_if<EventCallback>(&envelope->payload);
            if (envelope->type == "events_api" && event && handlers.onEvent &&
                !handlers.onEvent(*event, envelope->retryAttempt))
                return;  // not stored: Slack delivers it again
            session.send(socketAck(envelope->envelopeId));
            return;
        }
        if (auto* disconnect = std::get_if<SocketDisconnect>(&parsed)) {
            if (disconnect->reason == "too_many_websockets") return session.close();
            if (current.get() == &session && !replacement) open();
        }
    }

    void closed(Session& session, const std::string& why) {
        if (retiring.get() == &session) {
            retiring.reset();
            return;
        }
        if (replacement.get() == &session) {
            replacement.reset();
        } else if (current.get() == &session) {
            current.reset();
            if (replacement) {  // the warned-about socket went first: its replacement takes over
                current = std::move(replacement);
                return;
            }
        } else {
            return;
        }
        if (stopped) return;
        later("the socket closed: " + why);
    }

    void later(const std::string& why) {
        if (!current) state(SocketModeState::Disconnected, why);
        retry.expires_after(backoff.next());
        retry.async_wait([weak = weak_from_this()](beast::error_code ec) {
            if (auto self = weak.lock(); self && !ec) self->open();
        });
    }

    void stop() {
        stopped = true;
        retry.cancel();
        for (auto* s : {&current, &replacement, &retiring})
            if (*s) (*s)->close();
    }

    net::io_context& io;
    WebApiClient& appClient;
    SocketModeHandlers handlers;
    SocketModeOptions options;
    ssl::context tls{ssl::context::tls_client};
    Backoff backoff;
    net::steady_timer retry;
    std::shared_ptr<Session> current;      // the socket events come from
    std::shared_ptr<Session> replacement;  // opened after a disconnect warning, not yet hello'd
    std::shared_ptr<Session> retiring;     // closing after its replacement said hello
    bool opening = false;
    bool stopped = false;
};

SocketModeClient::SocketModeClient(net::io_context& io, WebApiClient& appClient, SocketModeHandlers handlers,
                                   SocketModeOptions options)
    : impl_(std::make_shared<Impl>(io, appClient, std::move(handlers), options)) {}

SocketModeClient::~SocketModeClient() = default;

void SocketModeClient::start() {
    net::post(impl_->io, [impl = impl_] { impl->open(); });
}

void SocketModeClient::stop() {
    net::post(impl_->io, [impl = impl_] { impl->stop(); });
}

}  // namespace mxbridge::slack
