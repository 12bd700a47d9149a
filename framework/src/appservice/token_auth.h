// Checks the homeserver's hs_token on every request, in constant time.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "mxbridge/log.h"

namespace mxbridge::detail {

enum class AuthResult { Ok, Missing, Wrong, QueryTokenRefused };

class TokenAuth {
public:
    TokenAuth(Secret<std::string> hsToken, bool allowQueryToken)
        : hsToken_(std::move(hsToken)), allowQueryToken_(allowQueryToken) {}

    // `target` is the raw request target (path and query).
    AuthResult check(const boost::beast::http::request_header<>& header) const;
    static bool constantTimeEquals(std::string_view a, std::string_view b);
    // The value of `name` in a query string, percent-decoded; empty if absent.
    static std::string queryParam(std::string_view target, std::string_view name);

private:
    Secret<std::string> hsToken_;
    bool allowQueryToken_;
};

std::string percentDecode(std::string_view in);

}  // namespace mxbridge::detail
