// framingProblem: the header fields that make a request's framing or credentials ambiguous.
#include <doctest/doctest.h>

#include <boost/beast/http.hpp>

#include "appservice/request_framing.h"

using namespace mxbridge::detail;
namespace http = boost::beast::http;

namespace {

http::request<http::empty_body> put() { return {http::verb::put, "/_matrix/app/v1/transactions/1", 11}; }

}  // namespace

TEST_CASE("only a single Transfer-Encoding of exactly chunked lets a request through") {
    auto plain = put();
    CHECK_FALSE(framingProblem(plain.base()).has_value());
    for (const char* ok : {"chunked", "Chunked", " chunked\t"}) {
        INFO("Transfer-Encoding: " << ok);
        auto r = put();
        r.set(http::field::transfer_encoding, ok);
        CHECK_FALSE(framingProblem(r.base()).has_value());
    }
    for (const char* bad : {"xchunked", "identity", "gzip", "chunked, identity", "gzip, chunked", "chunked, chunked", ""}) {
        INFO("Transfer-Encoding: " << bad);
        auto r = put();
        r.set(http::field::transfer_encoding, bad);
        auto problem = framingProblem(r.base());
        REQUIRE(problem.has_value());
        CHECK(problem->find("Transfer-Encoding") != std::string::npos);
    }
    auto twice = put();
    twice.insert(http::field::transfer_encoding, "chunked");
    twice.insert(http::field::transfer_encoding, "chunked");
    CHECK(framingProblem(twice.base()).has_value());
}

TEST_CASE("two Authorization headers make a request unreadable, one does not") {
    auto one = put();
    one.set(http::field::authorization, "Bearer a");
    CHECK_FALSE(framingProblem(one.base()).has_value());
    auto two = put();
    two.insert(http::field::authorization, "Bearer a");
    two.insert(http::field::authorization, "Bearer b");
    auto problem = framingProblem(two.base());
    REQUIRE(problem.has_value());
    CHECK(*problem == "more than one Authorization header");
}
