// One IRC client connection (a puppet or the relay bot): TCP or TLS, CAP/SASL/NICK/USER
// registration, keep-alive, flood-controlled outbound queue, reconnection and rejoin.
//
// Threading contract: every callback runs on the pool's io_context thread and must not
// block. Every public method may be called from any thread; methods that change anything
// post to the loop, so their effect is asynchronous but keeps call order. Destroy the
// IrcConnection on the loop thread (or after the loop has stopped) and no callback fires
// afterwards; destroying it elsewhere stops it, but a callback already running may finish.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mxbridge/backoff.h"
#include "mxbridge/irc/caps.h"
#include "mxbridge/irc/connection_state.h"
#include "mxbridge/irc/isupport.h"
#include "mxbridge/irc/message.h"

namespace mxbridge::irc {

class ConnectionPool;
namespace detail {
class IrcConnectionImpl;
}

struct SaslPlainCredentials {
    std::string authzid;  // usually empty
    std::string account;
    std::string password;
};

struct IrcConnectionOptions {
    std::string host;  // name or IP literal
    std::uint16_t port = 6697;
    bool tls = true;
    // Tests against a self-signed server turn this off; production never should.
    bool verifyCertificate = true;
    // SNI and the name checked against the certificate; empty: `host`.
    std::string tlsServerName;

    std::string nick;
    std::string username;  // USER's first param and the ident answer; empty: nick
    std::string realname;  // empty: nick
    std::string serverPassword;  // PASS, sent before NICK/USER when set
    std::optional<SaslPlainCredentials> sasl;
    // "PRIVMSG NickServ :IDENTIFY <password>" after 001 when set and SASL is not used.
    std::string nickservPassword;
    // Until the server's 005 says NICKLEN, fallback nicks are cut to this.
    std::size_t assumedNickLength = 30;
    std::size_t maxNickAttempts = 10;

    // Bind the socket to this local address before connecting (see addressInPrefix()).
    std::optional<boost::asio::ip::address> bindAddress;
    std::vector<std::string> capabilities = CapNegotiation::defaultWanted();

    // Flood control for owner lines: `floodBurst` at once, then one per `floodInterval`.
    // Protocol replies (PONG, CAP, AUTHENTICATE, rejoin) skip the wait.
    std::size_t floodBurst = 5;
    std::chrono::milliseconds floodInterval{2000};
    // Lines waiting to be sent, kept across reconnects; send() beyond this fails loudly.
    std::size_t maxQueuedLines = 1000;

    std::chrono::milliseconds connectTimeout{15'000};    // TCP connect + TLS handshake
    std::chrono::milliseconds registrationTimeout{60'000};  // socket up until 001
    std::chrono::milliseconds pingInterval{60'000};  // idle this long: we send PING
    std::chrono::milliseconds pingTimeout{120'000};  // nothing received this long: drop

    // Reconnect delay: initial * 2^failures, capped, then up to `jitter` of it is taken off at
    // random so connections dropped together don't return together.
    BackoffOptions reconnectBackoff{.initial = std::chrono::milliseconds(2'000),
                                    .max = std::chrono::milliseconds(300'000),
                                    .jitter = 0.3};

    std::string quitMessage = "mxbridge";
};

enum class JoinError {
    ChannelFull,           // 471
    InviteOnly,            // 473
    Banned,                // 474
    BadKey,                // 475
    TooManyChannels,       // 405
    NeedsRegisteredNick,   // 477
};

struct JoinFailure {
    std::string channel;
    JoinError error = JoinError::Banned;
    std::string numeric;  // "474"
    std::string text;     // the server's explanation
};

enum class SendError {
    QueueFull,   // maxQueuedLines reached: the line was not queued
    Stopped,     // stop() or a terminal state (Banned, BadCredentials) discarded it
};

struct SendFailure {
    SendError error = SendError::QueueFull;
    IrcMessage message;
    std::uint64_t receipt = 0;  // as given to send(); 0: none
};

struct IrcConnectionHandlers {
    // Every state change, in order.
    std::function<void(const StateChange&)> onStateChange;
    // Every parsed line from the server, including those the connection handled itself
    // (PING, CAP, numerics) so the owner can track channels and users. Params are raw
    // bytes as sent: apply decodeIrcText() to text params (PRIVMSG/NOTICE/TOPIC/PART/QUIT/
    // KICK text, realnames) before handing them to Matrix. With echo-message the owner's
    // own PRIVMSG/NOTICE come back here too: that echo is the server's delivery receipt.
    std::function<void(const IrcMessage&)> onMessage;
    // A JOIN (ours or a rejoin) was refused; the channel is dropped from the rejoin set.
    std::function<void(const JoinFailure&)> onJoinFailure;
    // A line that will not be sent; never silent.
    std::function<void(const SendFailure&)> onSendFailure;
    // The server has the line sent with this receipt: its echo came back (echo-message), or,
    // without echo-message, it was written; lines written before our QUIT count too, since
    // the server reads them first. Receipts come in the order of send().
    std::function<void(std::uint64_t receipt)> onSent;
};

struct IrcConnectionInfo {
    ConnectionState state = ConnectionState::Stopped;
    std::string nick;             // current nick (after fallback or NICK changes)
    std::set<std::string> caps;   // enabled capabilities
    std::set<std::string> channels;  // channels we are in (or will rejoin)
    std::size_t queuedLines = 0;
    std::uint16_t localPort = 0;  // our side of the current socket, 0 when none
    std::uint16_t remotePort = 0;
    std::uint64_t reconnects = 0;
};

class IrcConnection {
public:
    IrcConnection() = default;
    ~IrcConnection();
    IrcConnection(IrcConnection&&) noexcept;
    IrcConnection& operator=(IrcConnection&&) noexcept;
    IrcConnection(const IrcConnection&) = delete;
    IrcConnection& operator=(const IrcConnection&) = delete;

    explicit operator bool() const { return impl_ != nullptr; }

    // Starts connecting (through the pool's limiter); after a terminal state it starts over.
    void start();
    // Sends QUIT (with `reason` or the configured quit message), closes, state Stopped.
    // Lines still queued are reported through onSendFailure(Stopped).
    void stop(std::string reason = {});

    // Queues a line for the server, in order, flood-controlled. While disconnected it waits
    // for the next registration (and rejoin); lines are never dropped, but one being written
    // when the socket dies is sent again (at-least-once). With echo-message, PRIVMSG/NOTICE
    // lines written but not yet echoed when the socket dies are sent again too; without it,
    // a line the server had not read when it closed the link (a KILL) is lost.
    // A non-zero `receipt` comes back through onSent (or onSendFailure) for this line.
    void send(IrcMessage message, std::uint64_t receipt = 0);
    // NICK now, and the nick registered with on every reconnect from here on (not only the
    // nick first configured): what the owner asked for survives an ircd restart.
    void changeNick(std::string nick);
    // JOIN now (queued like send()) and on every reconnect until PART, KICK or a refusal.
    void join(std::string channel, std::string key = {});
    void part(std::string channel, std::string reason = {});

    // Snapshot, safe from any thread.
    IrcConnectionInfo info() const;
    ConnectionState state() const;

    // The server's 005 tokens: loop thread only (from a callback).
    const ISupport& isupport() const;

private:
    friend class ConnectionPool;
    explicit IrcConnection(std::shared_ptr<detail::IrcConnectionImpl> impl);

    std::shared_ptr<detail::IrcConnectionImpl> impl_;
};

}  // namespace mxbridge::irc
