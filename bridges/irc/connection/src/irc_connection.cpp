// The connection state machine. Everything in IrcConnectionImpl runs on the loop thread,
// except the snapshot in `info_` (guarded by `infoMutex_`) that info() reads from anywhere.
#include "mxbridge/irc/irc_connection.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <mutex>

#include "mxbridge/irc/connection_pool.h"
#include "mxbridge/irc/flood_control.h"
#include "mxbridge/irc/ident_server.h"
#include "mxbridge/irc/line_reader.h"

namespace mxbridge::irc {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// One socket's lifetime. Handlers hold it by shared_ptr, so a closed socket's last
// completions (operation_aborted) find it alive, and comparing it with the current one
// tells stale completions apart.
struct Transport {
    explicit Transport(asio::io_context& io) : socket(io) {}
    tcp::socket socket;  // moved into `tls` once TCP is up, when TLS is on
    std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
    std::array<char, 4096> readBuffer{};
    std::string writeBuffer;

    tcp::socket::lowest_layer_type& lowest() { return tls ? tls->lowest_layer() : socket; }
    void close() {
        boost::system::error_code ignored;
        lowest().close(ignored);
    }
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Servers word bans differently; these are what InspIRCd, UnrealIRCd, Solanum and
// ircu-style servers put in the ERROR text (and in 465) when a ban is why you go.
bool soundsBanned(std::string_view text) {
    static const char* const kWords[] = {"k-lined", "g-lined", "z-lined", "d-lined", "k-line",
                                         "g-line",  "z-line",  "kline",   "gline",   "zline",
                                         "dline",   "banned",  "akill"};
    std::string l = lower(text);
    return std::any_of(std::begin(kWords), std::end(kWords),
                       [&](const char* w) { return l.find(w) != std::string::npos; });
}

bool soundsLikeBadPassword(std::string_view text) {
    std::string l = lower(text);
    return l.find("bad password") != std::string::npos ||
           l.find("invalid password") != std::string::npos ||
           l.find("password incorrect") != std::string::npos;
}

std::optional<JoinError> joinErrorFor(std::string_view numeric) {
    if (numeric == "471") return JoinError::ChannelFull;
    if (numeric == "473") return JoinError::InviteOnly;
    if (numeric == "474") return JoinError::Banned;
    if (numeric == "475") return JoinError::BadKey;
    if (numeric == "405") return JoinError::TooManyChannels;
    if (numeric == "477") return JoinError::NeedsRegisteredNick;
    return std::nullopt;
}

const std::string& lastParam(const IrcMessage& msg) {
    static const std::string kEmpty;
    return msg.params.empty() ? kEmpty : msg.params.back();
}

}  // namespace

namespace detail {

// A line of the owner's, with the receipt it asked for (0: none).
struct OwnerLine {
    IrcMessage message;
    std::uint64_t receipt = 0;
};

class IrcConnectionImpl : public std::enable_shared_from_this<IrcConnectionImpl> {
public:
    IrcConnectionImpl(ConnectionPool& pool, IrcConnectionOptions options,
                      IrcConnectionHandlers handlers)
        : pool_(pool),
          io_(pool.context()),
          options_(std::move(options)),
          handlers_(std::move(handlers)),
          resolver_(io_),
          connectTimer_(io_),
          keepAliveTimer_(io_),
          floodTimer_(io_),
          reconnectTimer_(io_),
          reconnectBackoff_(options_.reconnectBackoff),
          flood_(options_.floodBurst,
                 std::chrono::duration_cast<Clock::duration>(options_.floodInterval)) {
        if (options_.username.empty()) options_.username = options_.nick;
        if (options_.realname.empty()) options_.realname = options_.nick;
        nick_ = options_.nick;
        publish();
    }

    // --- entry points, posted from IrcConnection ---

    void start() {
        if (state_ != ConnectionState::Stopped && !isTerminal(state_)) return;
        everStarted_ = true;
        reconnectBackoff_.reset();
        stopping_ = false;
        beginAttempt();
    }

    void stop(std::string reason) {
        if (state_ == ConnectionState::Stopped || stopping_) return;
        stopping_ = true;
        reconnectTimer_.cancel();
        if (transport_ && tcpUp_) {
            // Flush the QUIT, then close; the timer bounds a server that stops reading.
            control_.push_back(build::quit(reason.empty() ? options_.quitMessage : reason).wire());
            connectTimer_.expires_after(std::chrono::seconds(2));
            connectTimer_.async_wait([self = shared_from_this(), t = transport_](auto ec) {
                if (!ec && t == self->transport_) self->finishStop();
            });
            pump();
            return;
        }
        finishStop();
    }

    void send(IrcMessage message, std::uint64_t receipt) {
        // Lines sent before the first start() wait for it; after stop() or a ban they fail.
        if (isTerminal(state_) && everStarted_) {
            fail(SendError::Stopped, OwnerLine{std::move(message), receipt});
            return;
        }
        if (queue_.size() >= options_.maxQueuedLines) {
            fail(SendError::QueueFull, OwnerLine{std::move(message), receipt});
            return;
        }
        queue_.push_back(OwnerLine{std::move(message), receipt});
        publish();
        pump();
    }

    void changeNick(std::string nick) {
        options_.nick = nick;
        if (state_ == ConnectionState::Connected) {
            control_.push_back(build::nick(nick).wire());
            pump();
        } else if (state_ == ConnectionState::Registering) {
            // Registration is under way with the old nick: change it once that is done.
            queue_.push_front(OwnerLine{build::nick(std::move(nick)), 0});
            publish();
        }
    }

    void join(std::string channel, std::string key) {
        channels_[channel] = key;
        send(build::join(channel, key), 0);
    }

    void part(std::string channel, std::string reason) {
        channels_.erase(channel);
        send(build::part(channel, reason), 0);
    }

    // Stops callbacks: the owner is going away.
    void detach() {
        handlers_ = {};
        stop({});
    }

    IrcConnectionInfo info() const {
        std::lock_guard lock(infoMutex_);
        return info_;
    }
    ConnectionState state() const { return stateAtomic_.load(); }
    const ISupport& isupport() const { return isupport_; }
    ConnectionPool& pool() { return pool_; }

private:
    // --- connecting ---

    void beginAttempt() {
        setState(ConnectionState::Connecting, {});
        auto self = shared_from_this();
        pool_.limiter().acquire([self, attempt = ++attemptId_] {
            if (attempt != self->attemptId_ || self->stopping_ ||
                self->state_ != ConnectionState::Connecting)
                return;
            self->resolve();
        });
    }

    void resolve() {
        boost::system::error_code ec;
        auto literal = asio::ip::make_address(options_.host, ec);
        if (!ec) {
            endpoints_ = {tcp::endpoint(literal, options_.port)};
            nextEndpoint_ = 0;
            connectNext();
            return;
        }
        auto self = shared_from_this();
        resolver_.async_resolve(
            options_.host, std::to_string(options_.port),
            [self, attempt = attemptId_](const boost::system::error_code& ec,
                                         tcp::resolver::results_type results) {
                if (attempt != self->attemptId_ || self->stopping_) return;
                if (ec) {
                    self->lost("cannot resolve " + self->options_.host + ": " + ec.message());
                    return;
                }
                self->endpoints_.clear();
                for (const auto& entry : results) {
                    auto ep = entry.endpoint();
                    // With a source address only the same family can work.
                    if (self->options_.bindAddress &&
                        ep.address().is_v6() != self->options_.bindAddress->is_v6())
                        continue;
                    self->endpoints_.push_back(ep);
                }
                self->nextEndpoint_ = 0;
                self->connectNext();
            });
    }

    // Tries the resolved addresses one by one. Not asio::async_connect over the range: it
    // reopens the socket per address, which would lose the bind() to the source address.
    void connectNext() {
        if (nextEndpoint_ >= endpoints_.size()) {
            lost(endpoints_.empty() ? "no usable address for " + options_.host
                                    : "connect failed: " + lastConnectError_);
            return;
        }
        auto endpoint = endpoints_[nextEndpoint_++];
        auto t = std::make_shared<Transport>(io_);
        transport_ = t;
        tcpUp_ = false;
        boost::system::error_code ec;
        t->socket.open(endpoint.protocol(), ec);
        if (!ec && options_.bindAddress) t->socket.bind(tcp::endpoint(*options_.bindAddress, 0), ec);
        if (ec) {
            lastConnectError_ = ec.message();
            t->close();
            connectNext();
            return;
        }
        auto self = shared_from_this();
        armConnectTimer(t);
        t->socket.async_connect(endpoint, [self, t](const boost::system::error_code& ec) {
            if (t != self->transport_) return;
            if (ec) {
                self->lastConnectError_ = ec == asio::error::operation_aborted
                                              ? std::string("timed out")
                                              : ec.message();
                t->close();
                self->connectNext();
                return;
            }
            if (self->options_.tls)
                self->handshake(t);
            else
                self->socketUp(t);
        });
    }

    void armConnectTimer(const std::shared_ptr<Transport>& t) {
        connectTimer_.expires_after(options_.connectTimeout);
        connectTimer_.async_wait([self = shared_from_this(), t](const boost::system::error_code& ec) {
            if (!ec && t == self->transport_ && !self->tcpUp_) t->close();
        });
    }

    void handshake(const std::shared_ptr<Transport>& t) {
        t->tls = std::make_unique<asio::ssl::stream<tcp::socket>>(
            std::move(t->socket), pool_.tlsContext(options_.verifyCertificate));
        const std::string& name =
            options_.tlsServerName.empty() ? options_.host : options_.tlsServerName;
        SSL_set_tlsext_host_name(t->tls->native_handle(), name.c_str());
        if (options_.verifyCertificate)
            t->tls->set_verify_callback(asio::ssl::host_name_verification(name));
        auto self = shared_from_this();
        t->tls->async_handshake(asio::ssl::stream_base::client,
                                [self, t](const boost::system::error_code& ec) {
                                    if (t != self->transport_) return;
                                    if (ec) {
                                        self->lost("TLS handshake failed: " + ec.message());
                                        return;
                                    }
                                    self->socketUp(t);
                                });
    }

    // --- registration ---

    void socketUp(const std::shared_ptr<Transport>& t) {
        connectTimer_.cancel();
        tcpUp_ = true;
        boost::system::error_code e1, e2;
        localPort_ = t->lowest().local_endpoint(e1).port();
        remotePort_ = t->lowest().remote_endpoint(e2).port();
        if (auto* ident = pool_.ident(); ident && !e1 && !e2) {
            ident->add(localPort_, remotePort_, options_.username);
            identRegistered_ = true;
        }
        reader_ = LineReader();
        caps_ = CapNegotiation(options_.capabilities);
        isupport_ = ISupport();
        capPending_ = 0;
        capEnded_ = false;
        nickAttempts_ = 0;
        banHint_.clear();
        killed_ = false;
        nick_ = options_.nick;
        joined_.clear();
        lastReceived_ = Clock::now();
        registeringSince_ = lastReceived_;
        pingOutstanding_ = false;
        setState(ConnectionState::Registering, {});

        // CAP LS first, so the server holds registration until CAP END (IRCv3).
        control_.clear();
        control_.push_back(build::capLs("302").wire());
        if (!options_.serverPassword.empty())
            control_.push_back(build::pass(options_.serverPassword).wire());
        control_.push_back(build::nick(nick_).wire());
        control_.push_back(build::user(options_.username, options_.realname).wire());
        read(t);
        armKeepAlive();
        pump();
    }

    void read(const std::shared_ptr<Transport>& t) {
        auto self = shared_from_this();
        auto handler = [self, t](const boost::system::error_code& ec, std::size_t n) {
            if (t != self->transport_) return;
            if (ec) {
                self->lost(ec == asio::error::eof ? "server closed the connection"
                                                  : "read failed: " + ec.message());
                return;
            }
            self->reader_.feed(std::string_view(t->readBuffer.data(), n));
            self->lastReceived_ = Clock::now();
            self->pingOutstanding_ = false;
            while (auto line = self->reader_.next()) {
                if (auto msg = IrcMessage::parse(*line)) self->handle(*msg);
                if (t != self->transport_) return;  // the line ended this connection
            }
            self->read(t);
        };
        if (t->tls)
            t->tls->async_read_some(asio::buffer(t->readBuffer), handler);
        else
            t->socket.async_read_some(asio::buffer(t->readBuffer), handler);
    }

    void handle(const IrcMessage& msg) {
        const std::string& cmd = msg.command;
        if (cmd == "PING") {
            control_.push_back(build::pong(msg.param(0)).wire());
            pump();
        } else if (cmd == "CAP") {
            handleCap(msg);
        } else if (cmd == "AUTHENTICATE") {
            if (msg.param(0) == "+" && options_.sasl) {
                for (auto& line : build::authenticatePlain(options_.sasl->authzid,
                                                           options_.sasl->account,
                                                           options_.sasl->password))
                    control_.push_back(line.wire());
                pump();
            }
        } else if (cmd == "903") {
            endCap();
        } else if (cmd == "902" || cmd == "904" || cmd == "905" || cmd == "906") {
            deliver(msg);
            terminal(ConnectionState::BadCredentials, "SASL failed (" + cmd + "): " + lastParam(msg));
            return;
        } else if (cmd == "001") {
            registered(msg);
        } else if (cmd == "005") {
            isupport_.apply(msg);
        } else if (cmd == "433" || cmd == "432" || cmd == "436" || cmd == "437") {
            if (state_ == ConnectionState::Registering) nextNick();
        } else if (cmd == "464") {
            deliver(msg);
            terminal(ConnectionState::BadCredentials, "server password rejected: " + lastParam(msg));
            return;
        } else if (cmd == "465") {
            // The ERROR that follows usually says why ("K-Lined: reason"); wait for it.
            banHint_ = lastParam(msg).empty() ? "banned (465)" : lastParam(msg);
        } else if (cmd == "KILL") {
            if (ircEquals(msg.param(0), nick_, isupport_.caseMapping())) killed_ = true;
        } else if (cmd == "ERROR") {
            deliver(msg);
            handleError(msg.param(0));
            return;
        } else if (auto error = joinErrorFor(cmd)) {
            JoinFailure failure{msg.param(1), *error, cmd, msg.params.size() > 2 ? lastParam(msg) : ""};
            channels_.erase(failure.channel);
            publish();
            notify(handlers_.onJoinFailure, failure);
            deliver(msg);
            return;
        } else if (cmd == "NICK" || cmd == "JOIN" || cmd == "PART" || cmd == "KICK") {
            trackSelf(msg);
        } else if ((cmd == "PRIVMSG" || cmd == "NOTICE") && !unconfirmed_.empty()) {
            confirmEcho(msg);
        }
        deliver(msg);
    }

    // --- delivery receipts (echo-message) ---

    // A line is only known to have reached the server when it comes back as an echo; until
    // then it is kept, because a socket can die with it unread: an oper's KILL, or a drop,
    // lands between our write and the server reading it.
    void written(OwnerLine line) {
        if (!caps_.isEnabled("echo-message") ||
            (line.message.command != "PRIVMSG" && line.message.command != "NOTICE")) {
            sent(line);  // no receipt to wait for: written is the best we know
            return;
        }
        unconfirmed_.push_back(std::move(line));
        // Lines the server refused (404, 401) are never echoed; a later echo clears them, and
        // this bounds them for a connection that never speaks again.
        if (unconfirmed_.size() > kMaxUnconfirmed) {
            sent(unconfirmed_.front());
            unconfirmed_.pop_front();
        }
    }

    // The server handles lines in order, so an echo confirms its line and every line before
    // it: those were echoed earlier or refused with a numeric.
    void confirmEcho(const IrcMessage& echo) {
        CaseMapping cm = isupport_.caseMapping();
        if (!ircEquals(echo.sourceParts().nick, nick_, cm)) return;
        auto it = std::find_if(unconfirmed_.begin(), unconfirmed_.end(), [&](const OwnerLine& l) {
            const IrcMessage& m = l.message;
            return m.command == echo.command && ircEquals(m.param(0), echo.param(0), cm) &&
                   m.param(1) == echo.param(1);
        });
        if (it == unconfirmed_.end()) return;
        auto confirmed = std::vector<OwnerLine>(std::make_move_iterator(unconfirmed_.begin()),
                                                std::make_move_iterator(std::next(it)));
        unconfirmed_.erase(unconfirmed_.begin(), std::next(it));
        for (const OwnerLine& line : confirmed) sent(line);
    }

    // Unconfirmed lines go back to the front of the queue, in order, to be sent after the
    // next registration: at-least-once (an echo lost with the socket means a duplicate).
    void requeueUnconfirmed() {
        for (auto it = unconfirmed_.rbegin(); it != unconfirmed_.rend(); ++it) queue_.push_front(std::move(*it));
        unconfirmed_.clear();
    }

    void handleCap(const IrcMessage& msg) {
        bool wantSasl = options_.sasl.has_value();
        switch (caps_.handle(msg)) {
            case CapEvent::LsDone: {
                if (capEnded_) {  // a late LS (CAP 302 LS after registration): ignore
                    break;
                }
                auto offered = caps_.toRequest(true);
                if (wantSasl && std::find(offered.begin(), offered.end(), "sasl") == offered.end()) {
                    terminal(ConnectionState::BadCredentials,
                             "server does not offer SASL PLAIN");
                    return;
                }
                auto reqs = caps_.requestMessages(wantSasl);
                capPending_ = reqs.size();
                for (auto& r : reqs) control_.push_back(r.wire());
                if (reqs.empty()) endCap();
                break;
            }
            case CapEvent::Acked:
            case CapEvent::Naked:
                if (capPending_ > 0 && --capPending_ == 0) {
                    if (wantSasl && caps_.isEnabled("sasl") && !capEnded_)
                        control_.push_back(build::authenticate("PLAIN").wire());
                    else
                        endCap();
                }
                publish();
                break;
            case CapEvent::New:
                // cap-notify: pick up what we want and did not have.
                if (capEnded_)
                    for (auto& r : caps_.requestMessages(false)) control_.push_back(r.wire());
                break;
            case CapEvent::Deleted:
                publish();
                break;
            default:
                break;
        }
        pump();
    }

    void endCap() {
        if (capEnded_) return;
        capEnded_ = true;
        control_.push_back(build::capEnd().wire());
        pump();
    }

    void registered(const IrcMessage& msg) {
        nick_ = msg.param(0);
        reconnectBackoff_.reset();
        capEnded_ = true;  // servers without CAP never answer LS
        pool_.noteConnected(+1);
        countedConnected_ = true;
        if (!options_.nickservPassword.empty() && !caps_.isEnabled("sasl"))
            control_.push_back(
                build::privmsg("NickServ", "IDENTIFY " + options_.nickservPassword).wire());
        // Rejoin before the queued lines, so queued channel messages find us inside.
        for (const auto& [channel, key] : channels_) control_.push_back(build::join(channel, key).wire());
        setState(ConnectionState::Connected, {});
        armKeepAlive();  // from registration deadlines to the idle PING schedule
        pump();
    }

    void nextNick() {
        if (++nickAttempts_ > options_.maxNickAttempts) {
            lost("no acceptable nick after " + std::to_string(options_.maxNickAttempts) + " tries");
            return;
        }
        std::size_t maxLen = isupport_.value("NICKLEN") ? isupport_.nickLen() : options_.assumedNickLength;
        std::string suffix = nickAttempts_ == 1 ? "_" : std::to_string(nickAttempts_);
        std::string base = options_.nick.substr(0, maxLen > suffix.size() ? maxLen - suffix.size() : 1);
        nick_ = base + suffix;
        control_.push_back(build::nick(nick_).wire());
        publish();
        pump();
    }

    void trackSelf(const IrcMessage& msg) {
        CaseMapping cm = isupport_.caseMapping();
        bool fromSelf = ircEquals(msg.sourceParts().nick, nick_, cm);
        if (msg.command == "NICK" && fromSelf) {
            nick_ = msg.param(0);
        } else if (msg.command == "JOIN" && fromSelf) {
            joined_.insert(msg.param(0));
        } else if (msg.command == "PART" && fromSelf) {
            joined_.erase(msg.param(0));
            forgetChannel(msg.param(0));
        } else if (msg.command == "KICK" && ircEquals(msg.param(1), nick_, cm)) {
            joined_.erase(msg.param(0));
            forgetChannel(msg.param(0));
        }
        publish();
    }

    void forgetChannel(const std::string& channel) {
        CaseMapping cm = isupport_.caseMapping();
        for (auto it = channels_.begin(); it != channels_.end();)
            it = ircEquals(it->first, channel, cm) ? channels_.erase(it) : std::next(it);
    }

    void handleError(const std::string& text) {
        // A KILL disconnects once; its reason is the oper's free text ("you'll be banned next
        // time") and says nothing about the next connection. A real ban shows up then, as 465.
        if (killed_ && banHint_.empty())
            lost(text.empty() ? "killed" : text);
        else if (soundsBanned(text) || !banHint_.empty())
            terminal(ConnectionState::Banned, text.empty() ? banHint_ : text);
        else if (soundsLikeBadPassword(text))
            terminal(ConnectionState::BadCredentials, text);
        else
            lost(text.empty() ? "ERROR from server" : text);
    }

    // --- writing ---

    // Protocol lines first, unpaced; owner lines once registered, one flood token each.
    void pump() {
        auto t = transport_;
        if (!t || !tcpUp_ || writing_) return;
        auto now = Clock::now();
        bool userLine = false;
        if (!control_.empty()) {
            t->writeBuffer.clear();
            while (!control_.empty()) {
                t->writeBuffer += control_.front();
                control_.pop_front();
                flood_.tryTake(now);  // protocol lines count against the bucket too
            }
        } else if (state_ == ConnectionState::Connected && !queue_.empty() && !stopping_) {
            if (!flood_.tryTake(now)) {
                armFloodTimer(flood_.nextAvailable(now));
                return;
            }
            t->writeBuffer = queue_.front().message.wire();
            userLine = true;
        } else {
            if (stopping_ && control_.empty()) finishStop();
            return;
        }
        writing_ = true;
        auto self = shared_from_this();
        auto handler = [self, t, userLine](const boost::system::error_code& ec, std::size_t) {
            if (t != self->transport_) return;
            self->writing_ = false;
            if (ec) {
                self->lost("write failed: " + ec.message());
                return;
            }
            if (userLine && !self->queue_.empty()) {
                self->written(std::move(self->queue_.front()));
                self->queue_.pop_front();
                self->publish();
            }
            self->pump();
        };
        if (t->tls)
            asio::async_write(*t->tls, asio::buffer(t->writeBuffer), handler);
        else
            asio::async_write(t->socket, asio::buffer(t->writeBuffer), handler);
    }

    void armFloodTimer(Clock::time_point when) {
        if (floodArmed_) return;
        floodArmed_ = true;
        floodTimer_.expires_at(when);
        floodTimer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            self->floodArmed_ = false;
            if (!ec) self->pump();
        });
    }

    // --- keep-alive ---

    void armKeepAlive() {
        auto now = Clock::now();
        Clock::time_point next;
        if (state_ == ConnectionState::Registering)
            next = std::min(registeringSince_ + options_.registrationTimeout,
                            lastReceived_ + options_.pingTimeout);
        else
            next = lastReceived_ + (pingOutstanding_ ? options_.pingTimeout : options_.pingInterval);
        next = std::max(next, now + std::chrono::milliseconds(10));
        keepAliveTimer_.expires_at(next);
        keepAliveTimer_.async_wait([self = shared_from_this(), t = transport_](auto ec) {
            if (!ec && t == self->transport_) self->keepAlive();
        });
    }

    void keepAlive() {
        auto now = Clock::now();
        auto idle = now - lastReceived_;
        auto ms = [](auto d) {
            return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
        };
        if (state_ == ConnectionState::Registering &&
            now - registeringSince_ >= options_.registrationTimeout) {
            lost("registration timed out after " + ms(now - registeringSince_) + " ms");
            return;
        }
        if (idle >= options_.pingTimeout) {
            lost("ping timeout: nothing received for " + ms(idle) + " ms");
            return;
        }
        if (state_ == ConnectionState::Connected && idle >= options_.pingInterval &&
            !pingOutstanding_) {
            pingOutstanding_ = true;
            control_.push_back(build::ping("mxbridge").wire());
            pump();
        }
        armKeepAlive();
    }

    // --- endings ---

    void closeTransport() {
        if (transport_) transport_->close();
        transport_.reset();
        tcpUp_ = false;
        writing_ = false;
        control_.clear();
        connectTimer_.cancel();
        keepAliveTimer_.cancel();
        floodTimer_.cancel();
        resolver_.cancel();
        ++attemptId_;
        if (identRegistered_) {
            if (auto* ident = pool_.ident()) ident->remove(localPort_, remotePort_);
            identRegistered_ = false;
        }
        localPort_ = remotePort_ = 0;
        joined_.clear();
        if (countedConnected_) {
            pool_.noteConnected(-1);
            countedConnected_ = false;
        }
    }

    // Lost for a reason worth retrying: reconnect after backoff.
    void lost(const std::string& reason) {
        if (stopping_) {
            finishStop();
            return;
        }
        if (!banHint_.empty()) {  // 465 and then the socket closed without an ERROR
            terminal(ConnectionState::Banned, banHint_);
            return;
        }
        closeTransport();
        requeueUnconfirmed();
        ++reconnects_;
        auto delay = reconnectBackoff_.next();
        setState(ConnectionState::TransientDisconnect, reason);
        reconnectTimer_.expires_after(std::chrono::duration_cast<Clock::duration>(delay));
        reconnectTimer_.async_wait([self = shared_from_this(), attempt = attemptId_](auto ec) {
            if (!ec && attempt == self->attemptId_ && !self->stopping_ &&
                self->state_ == ConnectionState::TransientDisconnect)
                self->beginAttempt();
        });
    }

    // Ends without retry: the owner must change something and call start().
    void terminal(ConnectionState state, const std::string& reason) {
        closeTransport();
        requeueUnconfirmed();  // reported below with the queue: probably never delivered
        reconnectTimer_.cancel();
        setState(state, reason);
        failQueued();
    }

    void finishStop() {
        closeTransport();
        // Our QUIT went after them: the server read them first.
        auto readBeforeQuit = std::move(unconfirmed_);
        unconfirmed_.clear();
        for (const OwnerLine& line : readBeforeQuit) sent(line);
        reconnectTimer_.cancel();
        stopping_ = false;
        setState(ConnectionState::Stopped, {});
        failQueued();
    }

    void failQueued() {
        auto pending = std::move(queue_);
        queue_.clear();
        publish();
        for (auto& line : pending) fail(SendError::Stopped, std::move(line));
    }

    // --- owner notifications ---

    void fail(SendError error, OwnerLine line) {
        notify(handlers_.onSendFailure, SendFailure{error, std::move(line.message), line.receipt});
    }

    void sent(const OwnerLine& line) {
        if (line.receipt != 0) notify(handlers_.onSent, line.receipt);
    }

    void deliver(const IrcMessage& msg) { notify(handlers_.onMessage, msg); }

    void setState(ConnectionState state, std::string reason) {
        state_ = state;
        stateAtomic_ = state;
        publish();
        notify(handlers_.onStateChange, StateChange{state, std::move(reason)});
    }

    // The owner's callback is a boundary: its exception must not unwind through asio and
    // end the loop for every other connection.
    template <typename F, typename Arg>
    void notify(const F& f, const Arg& arg) {
        if (!f) return;
        try {
            f(arg);
        } catch (...) {
            ++callbackErrors_;
        }
    }

    void publish() {
        std::lock_guard lock(infoMutex_);
        info_.state = state_;
        info_.nick = nick_;
        info_.caps = caps_.enabled();
        info_.channels.clear();
        for (const auto& [channel, key] : channels_) info_.channels.insert(channel);
        info_.queuedLines = queue_.size();
        info_.localPort = localPort_;
        info_.remotePort = remotePort_;
        info_.reconnects = reconnects_;
    }

    ConnectionPool& pool_;
    asio::io_context& io_;
    IrcConnectionOptions options_;
    IrcConnectionHandlers handlers_;

    tcp::resolver resolver_;
    asio::steady_timer connectTimer_;
    asio::steady_timer keepAliveTimer_;
    asio::steady_timer floodTimer_;
    asio::steady_timer reconnectTimer_;
    std::shared_ptr<Transport> transport_;
    std::vector<tcp::endpoint> endpoints_;
    std::size_t nextEndpoint_ = 0;
    std::string lastConnectError_;

    ConnectionState state_ = ConnectionState::Stopped;
    std::atomic<ConnectionState> stateAtomic_{ConnectionState::Stopped};
    std::uint64_t attemptId_ = 0;  // bumped per attempt and per close: stale callbacks bail
    bool tcpUp_ = false;
    bool writing_ = false;
    bool stopping_ = false;
    bool everStarted_ = false;
    bool floodArmed_ = false;
    bool countedConnected_ = false;
    bool identRegistered_ = false;
    Backoff reconnectBackoff_;
    std::uint64_t reconnects_ = 0;
    std::uint64_t callbackErrors_ = 0;

    LineReader reader_;
    CapNegotiation caps_;
    ISupport isupport_;
    std::size_t capPending_ = 0;
    bool capEnded_ = false;
    std::size_t nickAttempts_ = 0;
    std::string banHint_;  // a 465 arrived: this connection ends as Banned
    bool killed_ = false;  // a KILL for our nick arrived: the ERROR that follows is no ban
    std::string nick_;
    std::map<std::string, std::string> channels_;  // wanted: channel -> key
    std::set<std::string> joined_;
    std::uint16_t localPort_ = 0;
    std::uint16_t remotePort_ = 0;

    std::deque<std::string> control_;  // protocol lines, already serialized
    std::deque<OwnerLine> queue_;        // owner lines, kept across reconnects
    std::deque<OwnerLine> unconfirmed_;  // owner lines written, their echo not seen yet
    static constexpr std::size_t kMaxUnconfirmed = 256;
    FloodControl flood_;

    Clock::time_point lastReceived_{};
    Clock::time_point registeringSince_{};
    bool pingOutstanding_ = false;

    mutable std::mutex infoMutex_;
    IrcConnectionInfo info_;
};

}  // namespace detail

// --- the handle: posts everything to the loop ---

IrcConnection::IrcConnection(std::shared_ptr<detail::IrcConnectionImpl> impl)
    : impl_(std::move(impl)) {
    impl_->pool().noteHandle(+1);
}

IrcConnection::~IrcConnection() {
    if (!impl_) return;
    impl_->pool().noteHandle(-1);
    auto impl = std::move(impl_);
    asio::io_context& io = impl->pool().context();
    // On the loop thread handlers are dropped now, so nothing calls a dead owner.
    asio::dispatch(io, [impl] { impl->detach(); });
}

IrcConnection::IrcConnection(IrcConnection&& other) noexcept : impl_(std::move(other.impl_)) {}

IrcConnection& IrcConnection::operator=(IrcConnection&& other) noexcept {
    if (this != &other) {
        IrcConnection old(std::move(*this));
        impl_ = std::move(other.impl_);
    }
    return *this;
}

void IrcConnection::start() {
    asio::post(impl_->pool().context(), [impl = impl_] { impl->start(); });
}

void IrcConnection::stop(std::string reason) {
    asio::post(impl_->pool().context(), [impl = impl_, r = std::move(reason)]() mutable {
        impl->stop(std::move(r));
    });
}

void IrcConnection::send(IrcMessage message, std::uint64_t receipt) {
    asio::post(impl_->pool().context(), [impl = impl_, m = std::move(message), receipt]() mutable {
        impl->send(std::move(m), receipt);
    });
}

void IrcConnection::changeNick(std::string nick) {
    asio::post(impl_->pool().context(), [impl = impl_, n = std::move(nick)]() mutable {
        impl->changeNick(std::move(n));
    });
}

void IrcConnection::join(std::string channel, std::string key) {
    asio::post(impl_->pool().context(),
               [impl = impl_, c = std::move(channel), k = std::move(key)]() mutable {
                   impl->join(std::move(c), std::move(k));
               });
}

void IrcConnection::part(std::string channel, std::string reason) {
    asio::post(impl_->pool().context(),
               [impl = impl_, c = std::move(channel), r = std::move(reason)]() mutable {
                   impl->part(std::move(c), std::move(r));
               });
}

IrcConnectionInfo IrcConnection::info() const { return impl_->info(); }
ConnectionState IrcConnection::state() const { return impl_->state(); }
const ISupport& IrcConnection::isupport() const { return impl_->isupport(); }

IrcConnection ConnectionPool::create(IrcConnectionOptions options, IrcConnectionHandlers handlers) {
    return IrcConnection(
        std::make_shared<detail::IrcConnectionImpl>(*this, std::move(options), std::move(handlers)));
}

}  // namespace mxbridge::irc
