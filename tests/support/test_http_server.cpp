// TestHttpServer and httpCall (see test_http_server.h).
#include "test_http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <future>
#include <chrono>
#include <cstdio>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mxbridge::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
}  // namespace

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
    HttpResponse r;
    r.status = status;
    r.headers["Content-Type"] = "application/json";
    r.body = body.dump();
    return r;
}

HttpResponse HttpResponse::error(int status, const std::string& errcode, const std::string& message) {
    return json(status, nlohmann::json{{"errcode", errcode}, {"error", message}});
}

struct TestHttpServer::Impl {
    Handler handler;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::unique_ptr<tcp::acceptor> acceptor;
    std::thread ioThread;
    std::mutex mutex;  // guards connections, fds
    std::list<std::thread> connections;
    std::set<int> openFds;
    std::atomic<bool> listening{false};
    std::atomic<bool> stopping{false};
    std::uint16_t port = 0;

    void open(std::uint16_t wanted) {
        auto a = std::make_unique<tcp::acceptor>(io);
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), wanted);
        a->open(ep.protocol());
        a->set_option(asio::socket_base::reuse_address(true));
        a->bind(ep);
        a->listen();
        port = a->local_endpoint().port();
        acceptor = std::move(a);
        listening = true;
        accept();
    }

    void accept() {
        acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec) return;  // Closed by stopListening or shutdown.
            auto shared = std::make_shared<tcp::socket>(std::move(socket));
            std::lock_guard lock(mutex);
            openFds.insert(shared->native_handle());
            connections.emplace_back([this, shared] { serve(*shared); });
            if (acceptor && acceptor->is_open()) accept();
        });
    }

    void resetOpenConnections() {
        std::lock_guard lock(mutex);
        // shutdown(2) wakes the blocked reads of connection threads; the fds stay theirs.
        for (int fd : openFds) ::shutdown(fd, SHUT_RDWR);
    }

    void serve(tcp::socket& socket) {
        beast::flat_buffer buffer;
        boost::system::error_code ec;
        while (!stopping) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            http::read(socket, buffer, parser, ec);
            if (ec) break;
            auto& req = parser.get();
            HttpRequest in;
            in.method = std::string(req.method_string());
            in.target = std::string(req.target());
            auto [path, query] = splitTarget(in.target);
            in.path = path;
            in.query = query;
            for (const auto& field : req) in.headers[lower(std::string(field.name_string()))] = std::string(field.value());
            in.body = req.body();
            HttpResponse out;
            try {
                out = handler(in);
            } catch (const std::exception& e) {
                out = HttpResponse::error(500, "M_UNKNOWN", std::string("test handler threw: ") + e.what());
            }
            if (out.dropConnection || !listening) break;
            http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
            for (const auto& [k, v] : out.headers) res.set(k, v);
            res.body() = out.body;
            if (out.omitContentLength) {
                res.keep_alive(false);
                http::response_serializer<http::string_body> sr{res};
                http::write_header(socket, sr, ec);
                if (!ec) asio::write(socket, asio::buffer(out.body), ec);
                break;
            }
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            http::write(socket, res, ec);
            if (ec || !req.keep_alive()) break;
        }
        {
            std::lock_guard lock(mutex);
            openFds.erase(socket.native_handle());
        }
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
    }

    void closeAcceptor() {
        std::promise<void> done;
        asio::post(io, [&] {
            boost::system::error_code ec;
            if (acceptor) acceptor->close(ec);
            acceptor.reset();
            done.set_value();
        });
        done.get_future().wait();
    }
};

TestHttpServer::TestHttpServer(Handler handler, std::uint16_t port) : impl_(std::make_unique<Impl>()) {
    impl_->handler = std::move(handler);
    impl_->open(port);
    port_ = impl_->port;
    impl_->ioThread = std::thread([this] { impl_->io.run(); });
}

TestHttpServer::~TestHttpServer() {
    impl_->stopping = true;
    impl_->listening = false;
    impl_->closeAcceptor();
    impl_->resetOpenConnections();
    impl_->work.reset();
    impl_->io.stop();
    impl_->ioThread.join();
    std::list<std::thread> threads;
    {
        std::lock_guard lock(impl_->mutex);
        threads.swap(impl_->connections);
    }
    for (auto& t : threads) t.join();
}

std::string TestHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void TestHttpServer::stopListening() {
    impl_->listening = false;
    impl_->closeAcceptor();
    impl_->resetOpenConnections();
}

void TestHttpServer::resumeListening() {
    std::promise<void> done;
    asio::post(impl_->io, [&] {
        try {
            if (!impl_->acceptor) impl_->open(port_);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "TestHttpServer: cannot listen again on %u: %s\n", port_, e.what());
        }
        done.set_value();
    });
    done.get_future().wait();
}

bool TestHttpServer::listening() const { return impl_->listening; }

HttpCallResult httpCall(const std::string& baseUrl, const std::string& method,
                        const std::string& target, const StringMap& headers,
                        const std::string& body, std::chrono::milliseconds timeout) {
    HttpCallResult result;
    std::string rest = baseUrl;
    if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
    std::string prefix;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        prefix = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    if (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    std::string host = rest, port = "80";
    if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }

    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::request<http::string_body> req{http::string_to_verb(method), prefix + target, 11};
    req.set(http::field::host, rest);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "PUT" || method == "POST") {
        req.body() = body;
        if (!headers.count("Content-Type")) req.set(http::field::content_type, "application/json");
    }
    req.keep_alive(false);
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code failure;
    bool connected = false;

    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) {
        result.error = "resolve: " + ec.message();
        return result;
    }
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
        if (e) { failure = e; return; }
        connected = true;
        http::async_write(stream, req, [&](boost::system::error_code e2, std::size_t) {
            if (e2) { failure = e2; return; }
            http::async_read(stream, buffer, parser, [&](boost::system::error_code e3, std::size_t) {
                if (e3) failure = e3;
            });
        });
    });
    io.run();
    result.connected = connected;
    if (failure) {
        result.timedOut = failure == beast::error::timeout;
        result.error = failure.message();
        if (!parser.is_header_done()) return result;
    }
    const auto& res = parser.get();
    result.status = static_cast<int>(res.result_int());
    for (const auto& field : res) result.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    result.hadContentLength = res.find(http::field::content_length) != res.end();
    result.body = res.body();
    return result;
}

}  // namespace mxbridge::test
