#include "socket_mode_double.h"

#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace mxbridge::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

struct Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(tcp::socket socket) : ws(std::move(socket)) {}
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    std::deque<std::string> outbox;
    bool writing = false;
    bool open = false;

    void send(std::string text) {
        outbox.push_back(std::move(text));
        if (!writing) writeNext();
    }
    void writeNext() {
        writing = true;
        ws.text(true);
        ws.async_write(net::buffer(outbox.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->outbox.pop_front();
            if (ec || self->outbox.empty()) {
                self->writing = false;
                return;
            }
            self->writeNext();
        });
    }
};

}  // namespace

struct SocketModeDouble::Impl {
    net::io_context io;
    tcp::acceptor acceptor{io};
    std::thread thread;
    uint16_t port = 0;
    int tickets = 0;

    mutable std::mutex mutex;  // what tests read
    int opened = 0;
    int envelopes = 0;
    std::set<std::string> sent;
    std::vector<std::string> acks;
    std::vector<std::string> unexpected;
    std::vector<std::shared_ptr<Connection>> connections;  // io thread only

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;
            auto connection = std::make_shared<Connection>(std::move(socket));
            connection->ws.async_accept([this, connection](beast::error_code ec) {
                if (ec) return;
                connection->open = true;
                connections.push_back(connection);
                {
                    std::lock_guard lock(mutex);
                    ++opened;
                }
                connection->send(nlohmann::json{{"type", "hello"},
                                                 {"num_connections", openCount()},
                                                 {"debug_info", {{"host", "double"}, {"approximate_connection_time", 18060}}},
                                                 {"connection_info", {{"app_id", "A0DOUBLE1"}}}}
                                     .dump());
                read(connection);
            });
            accept();
        });
    }

    void read(const std::shared_ptr<Connection>& connection) {
        connection->ws.async_read(connection->buffer, [this, connection](beast::error_code ec, std::size_t) {
            if (ec) {
                connection->open = false;
                return;
            }
            std::string text = beast::buffers_to_string(connection->buffer.data());
            connection->buffer.consume(connection->buffer.size());
            nlohmann::json frame = nlohmann::json::parse(text, nullptr, false);
            std::string id = frame.is_object() ? frame.value("envelope_id", "") : "";
            {
                std::lock_guard lock(mutex);
                if (!id.empty() && sent.count(id)) acks.push_back(id);
                else unexpected.push_back(text);
            }
            read(connection);
        });
    }

    int openCount() const {
        int n = 0;
        for (const auto& c : connections) n += c->open;
        return n;
    }

    std::shared_ptr<Connection> newest() const {
        for (auto it = connections.rbegin(); it != connections.rend(); ++it)
            if ((*it)->open) return *it;
        return nullptr;
    }

    template <typename T, typename F>
    T onLoop(F f) {
        std::promise<T> result;
        net::post(io, [&] { result.set_value(f()); });
        return result.get_future().get();
    }
};

SocketModeDouble::SocketModeDouble() : impl_(std::make_unique<Impl>()) {
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

SocketModeDouble::~SocketModeDouble() {
    net::post(impl_->io, [this] {
        impl_->acceptor.close();
        for (auto& c : impl_->connections) {
            beast::error_code ignored;
            c->ws.next_layer().socket().close(ignored);
        }
    });
    impl_->io.stop();
    impl_->thread.join();
}

std::string SocketModeDouble::nextUrl() {
    std::lock_guard lock(impl_->mutex);
    return "ws://127.0.0.1:" + std::to_string(impl_->port) + "/link/?ticket=" + std::to_string(++impl_->tickets);
}

int SocketModeDouble::connectionsOpened() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->opened;
}

int SocketModeDouble::connectionsOpen() const {
    return impl_->onLoop<int>([this] { return impl_->openCount(); });
}

bool SocketModeDouble::send(const nlohmann::json& frame) {
    std::string text = frame.dump();
    return impl_->onLoop<bool>([this, &text] {
        auto connection = impl_->newest();
        if (!connection) return false;
        connection->send(text);
        return true;
    });
}

std::string SocketModeDouble::sendEvent(const nlohmann::json& payload, int retryAttempt) {
    std::string id;
    {
        std::lock_guard lock(impl_->mutex);
        id = "env-" + std::to_string(++impl_->envelopes);
        impl_->sent.insert(id);
    }
    send({{"envelope_id", id},
          {"type", "events_api"},
          {"payload", payload},
          {"accepts_response_payload", false},
          {"retry_attempt", retryAttempt},
          {"retry_reason", retryAttempt > 0 ? "timeout" : ""}});
    return id;
}

void SocketModeDouble::dropNewest() {
    impl_->onLoop<bool>([this] {
        auto connection = impl_->newest();
        if (!connection) return false;
        connection->open = false;
        beast::error_code ignored;
        connection->ws.next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
        connection->ws.next_layer().socket().close(ignored);
        return true;
    });
}

std::vector<std::string> SocketModeDouble::acks() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->acks;
}

std::vector<std::string> SocketModeDouble::unexpected() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->unexpected;
}

bool SocketModeDouble::waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (predicate()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return predicate();
}

}  // namespace mxbridge::test
