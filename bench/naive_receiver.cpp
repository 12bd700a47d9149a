// mxbridge-naive-receiver: the simplest appservice transaction endpoint one might write (Beast
// synchronous server, a thread per connection, the whole body parsed into nlohmann::json, `{}`
// answered, nothing stored). A baseline for bench/README.md's tables and a target for testing
// mxbridge-loadgen without a bridge. Naive on purpose: don't "fix" it, that changes the baseline.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <csignal>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Options {
    std::string bind = "127.0.0.1";
    unsigned short port = 0;
    std::string hsToken;
};

http::response<http::string_body> answer(http::status status, std::string body, unsigned version,
                                         bool keepAlive) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keepAlive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

// As the spec asks: 401 without a token, 403 with a wrong one, nullopt when accepted.
std::optional<http::status> authError(const http::request<http::string_body>& req,
                                      const std::string& token) {
    if (token.empty()) {
        return std::nullopt;
    }
    const auto header = req[http::field::authorization];
    // Homeservers before spec v1.4 (seen: Synapse 1.67) only send ?access_token=.
    const std::string target(req.target());
    const bool hasQuery = target.find("access_token=") != std::string::npos;
    if (header == "Bearer " + token || target.find("access_token=" + token) != std::string::npos) {
        return std::nullopt;
    }
    return header.empty() && !hasQuery ? http::status::unauthorized : http::status::forbidden;
}

http::response<http::string_body> handle(const http::request<http::string_body>& req,
                                         const Options& options) {
    const std::string target(req.target());
    const bool keepAlive = req.keep_alive();
    if (auto status = authError(req, options.hsToken)) {
        return answer(*status,
                      *status == http::status::unauthorized ? R"({"errcode":"M_UNAUTHORIZED"})"
                                                            : R"({"errcode":"M_FORBIDDEN"})",
                      req.version(), keepAlive);
    }
    const bool isTxn = target.rfind("/_matrix/app/v1/transactions/", 0) == 0 ||
                       target.rfind("/transactions/", 0) == 0;
    if (req.method() != http::verb::put || !isTxn) {
        return answer(http::status::not_found, R"({"errcode":"M_UNRECOGNIZED"})", req.version(),
                      keepAlive);
    }
    try {
        nlohmann::json body = nlohmann::json::parse(req.body());
        if (!body.contains("events") || !body["events"].is_array()) {
            throw std::runtime_error("no events array");
        }
    } catch (const std::exception& e) {
        return answer(http::status::bad_request,
                      nlohmann::json{{"errcode", "M_BAD_JSON"}, {"error", e.what()}}.dump(),
                      req.version(), keepAlive);
    }
    return answer(http::status::ok, "{}", req.version(), keepAlive);
}

void serve(tcp::socket socket, const Options& options) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(socket, buffer, parser, ec);
        if (ec) {
            return;
        }
        auto res = handle(parser.get(), options);
        http::write(socket, res, ec);
        if (ec || !res.keep_alive()) {
            socket.shutdown(tcp::socket::shutdown_send, ec);
            return;
        }
    }
}

[[noreturn]] void usage() {
    std::cerr << "usage: mxbridge-naive-receiver [--bind 127.0.0.1] [--port P (0: any)] "
                 "[--hs-token TOKEN]\nPrints \"listening on HOST:PORT\" when ready.\n";
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) {
            usage();
        }
        const char* value = argv[++i];
        if (arg == "--bind") {
            options.bind = value;
        } else if (arg == "--port") {
            auto [ptr, ec] = std::from_chars(value, value + std::strlen(value), options.port);
            if (ec != std::errc() || *ptr != '\0') {
                usage();
            }
        } else if (arg == "--hs-token") {
            options.hsToken = value;
        } else {
            usage();
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    try {
        asio::io_context io(1);
        tcp::acceptor acceptor(io, {asio::ip::make_address(options.bind), options.port});
        std::cout << "listening on " << options.bind << ":" << acceptor.local_endpoint().port()
                  << std::endl;
        for (;;) {
            tcp::socket socket(io);
            acceptor.accept(socket);
            std::thread(serve, std::move(socket), std::cref(options)).detach();
        }
    } catch (const std::exception& e) {
        std::cerr << "mxbridge-naive-receiver: " << e.what() << "\n";
        return 1;
    }
}
