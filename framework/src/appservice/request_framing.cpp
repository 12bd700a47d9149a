#include "appservice/request_framing.h"

#include <boost/beast/core/string.hpp>

namespace mxbridge::detail {

namespace http = boost::beast::http;

namespace {

boost::beast::string_view trimmed(boost::beast::string_view s) {
    auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<std::string> framingProblem(const http::request_header<>& header) {
    auto codings = header.equal_range(http::field::transfer_encoding);
    if (codings.first != codings.second) {
        boost::beast::string_view coding = trimmed(codings.first->value());
        if (std::next(codings.first) != codings.second || !boost::beast::iequals(coding, "chunked")) {
            return "Transfer-Encoding other than a single \"chunked\" is not supported "
                   "(RFC 9112 section 6.3)";
        }
    }
    if (header.count(http::field::authorization) > 1) return "more than one Authorization header";
    return std::nullopt;
}

}  // namespace mxbridge::detail
