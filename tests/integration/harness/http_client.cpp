#include "http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>

#include "harness_error.h"

namespace mxbridge::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

inline namespace harness_http {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (equalsIgnoreCase(key, name)) {
            return value;
        }
    }
    return {};
}

struct HttpClient::Impl {
    asio::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::uint16_t port;
    bool keepAlive;

    // Runs the queued handlers; every operation has an expiry, so this returns.
    void run() {
        ioc.restart();
        ioc.run();
    }

    void connect(std::chrono::milliseconds timeout) {
        stream.emplace(ioc);
        buffer.clear();
        beast::error_code result;
        stream->expires_after(timeout);
        stream->async_connect(asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port),
                              [&](beast::error_code ec) { result = ec; });
        run();
        if (result) {
            stream.reset();
            throw HarnessError("HTTP connect 127.0.0.1:" + std::to_string(port) + ": " +
                               result.message());
        }
    }

    void close() {
        if (stream) {
            beast::error_code ignored;
            stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            stream->close();
            stream.reset();
        }
    }
};

HttpClient::HttpClient(std::uint16_t port, bool keepAlive) : impl_(std::make_unique<Impl>()) {
    impl_->port = port;
    impl_->keepAlive = keepAlive;
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() { impl_->close(); }

HttpResponse HttpClient::get(std::string_view target, const HttpHeaders& headers,
                             std::chrono::milliseconds timeout) {
    return request("GET", target, headers, {}, timeout);
}

HttpResponse HttpClient::put(std::string_view target, std::string body, const HttpHeaders& headers,
                             std::chrono::milliseconds timeout) {
    return request("PUT", target, headers, std::move(body), timeout);
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 const HttpHeaders& headers, std::string body,
                                 std::chrono::milliseconds timeout) {
    const std::string what = std::string(method) + " " + std::string(target);
    http::request<http::string_body> req;
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(beast::string_view(target.data(), target.size()));
    req.version(11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    for (const auto& [key, value] : headers) {
        req.set(key, value);
    }
    req.body() = std::move(body);
    req.prepare_payload();
    req.keep_alive(impl_->keepAlive);

    for (int attempt = 0;; ++attempt) {
        const bool reused = impl_->stream.has_value();
        if (!reused) {
            impl_->connect(timeout);
        }
        beast::tcp_stream& stream = *impl_->stream;
        http::response_parser<http::string_body> parser;
        parser.body_limit(256 * 1024 * 1024);

        HttpResponse out;
        bool writeDone = false;
        bool readDone = false;
        beast::error_code writeEc;
        beast::error_code readEc;
        Clock::time_point readAt;
        const Clock::time_point start = Clock::now();
        stream.expires_after(timeout);
        // Read and write run concurrently: a server may answer before it takes the whole body.
        http::async_write(stream, req, [&](beast::error_code ec, std::size_t sent) {
            writeDone = true;
            writeEc = ec;
            out.bytesSent = sent;
        });
        http::async_read(stream, impl_->buffer, parser, [&](beast::error_code ec, std::size_t) {
            readDone = true;
            readEc = ec;
            readAt = Clock::now();
            if (!writeDone) {
                // Answered mid-upload: stop sending, we have what we came for.
                beast::error_code ignored;
                stream.socket().cancel(ignored);
            }
        });
        impl_->run();

        if (readEc) {
            impl_->close();
            if (readEc == beast::error::timeout) {
                throw HarnessError("HTTP " + what + ": no response within " +
                                   std::to_string(timeout.count()) + " ms (" +
                                   std::to_string(out.bytesSent) + " bytes sent)");
            }
            // A kept-alive connection the server had already closed: try once on a fresh one.
            if (reused && attempt == 0 && !parser.got_some()) {
                continue;
            }
            throw HarnessError("HTTP " + what + ": no response: " + readEc.message() +
                               (writeEc ? "; write: " + writeEc.message() : std::string()));
        }
        out.requestFullySent = !writeEc;
        if (writeEc && writeEc != asio::error::operation_aborted) {
            out.writeError = writeEc.message();
        } else if (writeEc) {
            out.writeError = "cancelled after an early response";
        }
        auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        for (const auto& field : res) {
            out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        out.body = std::move(res.body());
        out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(readAt - start);
        if (!impl_->keepAlive || !res.keep_alive() || !out.requestFullySent) {
            impl_->close();
        }
        return out;
    }
}

}  // namespace harness_http
}  // namespace mxbridge::test
