// Header fields that make a request's framing or its credentials ambiguous. A request with
// one is answered 400 and its connection closed, never guessed at: a proxy in front of the
// bridge may have framed it differently, and what it takes for a body we would read as the
// next request (request smuggling, RFC 9112 §6.3 and §11.2).
#pragma once

#include <optional>
#include <string>

#include <boost/beast/http.hpp>

namespace mxbridge::detail {

// Why the request cannot be read safely, or nullopt when it can. Checked once the header is
// in, before anything else looks at it.
//  - Transfer-Encoding, when present, must be exactly `chunked` (one field, one coding):
//    anything else (`gzip`, `identity`, `chunked, identity`, `xchunked`, two fields) leaves
//    the body's length undetermined, and Beast would then read the body as a new request.
//  - Authorization is a singleton field; two of them (whatever their order) are refused
//    rather than trusting whichever one a check happens to look at.
std::optional<std::string> framingProblem(const boost::beast::http::request_header<>& header);

}  // namespace mxbridge::detail
