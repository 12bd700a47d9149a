#include "appservice/token_auth.h"

#include <openssl/crypto.h>

namespace mxbridge::detail {

std::string percentDecode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size()) {
            int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(in[i]);
    }
    return out;
}

bool TokenAuth::constantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        // Still do the work, so the time taken does not tell how close a guess was.
        CRYPTO_memcmp(a.data(), a.data(), a.size());
        return false;
    }
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string TokenAuth::queryParam(std::string_view target, std::string_view name) {
    size_t q = target.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            if (eq == std::string_view::npos) return {};
            std::string raw(pair.substr(eq + 1));
            for (char& c : raw) if (c == '+') c = ' ';  // form encoding, queries only
            return percentDecode(raw);
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

AuthResult TokenAuth::check(const boost::beast::http::request_header<>& header) const {
    auto auth = header[boost::beast::http::field::authorization];
    if (!auth.empty()) {
        std::string_view value(auth.data(), auth.size());
        constexpr std::string_view kBearer = "Bearer ";
        if (value.size() < kBearer.size() ||
            !std::equal(kBearer.begin(), kBearer.end(), value.begin(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
            return AuthResult::Wrong;
        }
        value.remove_prefix(kBearer.size());
        return constantTimeEquals(value, hsToken_.reveal()) ? AuthResult::Ok : AuthResult::Wrong;
    }
    std::string_view target(header.target().data(), header.target().size());
    std::string query = queryParam(target, "access_token");
    if (query.empty()) return AuthResult::Missing;
    if (!allowQueryToken_) return AuthResult::QueryTokenRefused;
    return constantTimeEquals(query, hsToken_.reveal()) ? AuthResult::Ok : AuthResult::Wrong;
}

}  // namespace mxbridge::detail
