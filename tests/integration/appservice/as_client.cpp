// AsClient: forwards to the harness's HttpClient (see as_client.h for why it is wrapped).
#include "as_client.h"

#include <strings.h>

#include "http_client.h"

namespace mxbridge::test {

namespace {

AsResponse convert(HttpResponse r) {
    AsResponse out;
    out.status = r.status;
    out.headers = std::move(r.headers);
    out.body = std::move(r.body);
    out.elapsed = r.elapsed;
    out.requestFullySent = r.requestFullySent;
    out.bytesSent = r.bytesSent;
    out.writeError = std::move(r.writeError);
    return out;
}

}  // namespace

std::string AsResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
    return {};
}

AsClient::AsClient(std::uint16_t port, bool keepAlive) : client_(std::make_unique<HttpClient>(port, keepAlive)) {}
AsClient::~AsClient() = default;

AsResponse AsClient::request(std::string_view method, std::string_view target, const AsHeaders& headers,
                             std::string body, std::chrono::milliseconds timeout) {
    return convert(client_->request(method, target, headers, std::move(body), timeout));
}

AsResponse AsClient::get(std::string_view target, const AsHeaders& headers, std::chrono::milliseconds timeout) {
    return convert(client_->get(target, headers, timeout));
}

AsResponse AsClient::put(std::string_view target, std::string body, const AsHeaders& headers,
                         std::chrono::milliseconds timeout) {
    return convert(client_->put(target, std::move(body), headers, timeout));
}

void AsClient::close() { client_->close(); }

}  // namespace mxbridge::test
