// TokenAuth: the hs_token check on every request from the homeserver.
#include <doctest/doctest.h>

#include <boost/beast/http.hpp>

#include "appservice/token_auth.h"

using namespace mxbridge;
using namespace mxbridge::detail;
namespace http = boost::beast::http;

namespace {

const Secret<std::string> kToken{std::string("hs_s3cret/+=")};

AuthResult check(const TokenAuth& auth, const std::string& target,
                 const std::string& authorization = {}) {
    http::request<http::empty_body> req{http::verb::put, target, 11};
    if (!authorization.empty()) req.set(http::field::authorization, authorization);
    return auth.check(req.base());
}

}  // namespace

TEST_CASE("the right bearer token is accepted, a wrong one refused, none reported missing") {
    TokenAuth auth(kToken, false);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1", "Bearer hs_s3cret/+=") == AuthResult::Ok);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1", "Bearer hs_s3cret/+") == AuthResult::Wrong);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1", "Bearer hs_s3cret/+==") == AuthResult::Wrong);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1", "Bearer ") == AuthResult::Wrong);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1", "Basic aHM6eA==") == AuthResult::Wrong);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1", "hs_s3cret/+=") == AuthResult::Wrong);
    CHECK(check(auth, "/_matrix/app/v1/transactions/1") == AuthResult::Missing);
}

TEST_CASE("the Bearer scheme name is matched case-insensitively") {
    TokenAuth auth(kToken, false);
    CHECK(check(auth, "/x", "bearer hs_s3cret/+=") == AuthResult::Ok);
    CHECK(check(auth, "/x", "BEARER hs_s3cret/+=") == AuthResult::Ok);
    CHECK(check(auth, "/x", "bEaReR hs_s3cret/+=") == AuthResult::Ok);
    // The token itself is case-sensitive.
    CHECK(check(auth, "/x", "Bearer HS_S3CRET/+=") == AuthResult::Wrong);
}

TEST_CASE("a query-string token is accepted only when allowed") {
    TokenAuth allowing(kToken, true);
    TokenAuth refusing(kToken, false);
    const std::string target = "/_matrix/app/v1/transactions/1?access_token=hs_s3cret%2F%2B%3D";
    CHECK(check(allowing, target) == AuthResult::Ok);
    CHECK(check(refusing, target) == AuthResult::QueryTokenRefused);
    CHECK(check(allowing, "/t?access_token=nope") == AuthResult::Wrong);
    CHECK(check(allowing, "/t?access_token=") == AuthResult::Missing);
    CHECK(check(allowing, "/t?other=1") == AuthResult::Missing);
}

TEST_CASE("the Authorization header wins over a query token") {
    TokenAuth auth(kToken, true);
    CHECK(check(auth, "/t?access_token=hs_s3cret%2F%2B%3D", "Bearer wrong") == AuthResult::Wrong);
    CHECK(check(auth, "/t?access_token=wrong", "Bearer hs_s3cret/+=") == AuthResult::Ok);
}

TEST_CASE("query parameters are found among others and percent-decoded") {
    CHECK(TokenAuth::queryParam("/p?a=1&access_token=x%41y&b=2", "access_token") == "xAy");
    CHECK(TokenAuth::queryParam("/p?access_token_old=1&access_token=z", "access_token") == "z");
    CHECK(TokenAuth::queryParam("/p?x=a+b%2Bc", "x") == "a b+c");
    CHECK(TokenAuth::queryParam("/p?x", "x").empty());
    CHECK(TokenAuth::queryParam("/p", "x").empty());
    CHECK(TokenAuth::queryParam("/p?x=1&x=2", "x") == "1");
}

TEST_CASE("percent-decoding leaves malformed escapes as they are") {
    CHECK(percentDecode("%41%42%43") == "ABC");
    CHECK(percentDecode("%2f%2F") == "//");
    CHECK(percentDecode("100%") == "100%");
    CHECK(percentDecode("%4") == "%4");
    CHECK(percentDecode("a%4") == "a%4");
    CHECK(percentDecode("%zz") == "%zz");
    CHECK(percentDecode("%%41") == "%A");
    CHECK(percentDecode("%00").size() == 1);
    CHECK(percentDecode("a+b") == "a+b");  // '+' is a space only in query strings
}

TEST_CASE("constant-time comparison compares whole strings") {
    CHECK(TokenAuth::constantTimeEquals("", ""));
    CHECK(TokenAuth::constantTimeEquals("abc", "abc"));
    CHECK_FALSE(TokenAuth::constantTimeEquals("abc", "abd"));
    CHECK_FALSE(TokenAuth::constantTimeEquals("abc", "ab"));
    CHECK_FALSE(TokenAuth::constantTimeEquals("", "a"));
}
