// Slack's v0 request signatures: the published example, forgeries, and the replay window.
#include <doctest/doctest.h>

#include "mxbridge/slack/request_signature.h"

using namespace mxbridge::slack;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(int64_t unixSeconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(unixSeconds));
}

// The worked example of Slack's "Verifying requests from Slack" page (a slash command post).
constexpr std::string_view kDocSecret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::string_view kDocTimestamp = "1531420618";
constexpr std::string_view kDocBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
constexpr std::string_view kDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

}  // namespace

TEST_CASE("Slack's own signed example is accepted, and signing it gives Slack's signature") {
    RequestVerifier verifier{std::string(kDocSecret)};
    CHECK(verifier.sign(kDocTimestamp, kDocBody) == kDocSignature);
    CHECK(verifier.verify({kDocTimestamp, kDocSignature, kDocBody}, at(1531420618 + 10)) ==
          SignatureVerdict::Valid);
}

TEST_CASE("a forged or altered post is refused as a bad signature") {
    RequestVerifier verifier{std::string(kDocSecret)};
    auto now = at(1531420618);
    SUBCASE("one byte of the body changed") {
        std::string body(kDocBody);
        body[10] ^= 1;
        CHECK(verifier.verify({kDocTimestamp, kDocSignature, body}, now) == SignatureVerdict::BadSignature);
    }
    SUBCASE("signed with another secret") {
        RequestVerifier forger{"not-the-secret"};
        std::string forged = forger.sign(kDocTimestamp, kDocBody);
        CHECK(verifier.verify({kDocTimestamp, forged, kDocBody}, now) == SignatureVerdict::BadSignature);
    }
    SUBCASE("the timestamp moved into the window but the signature kept") {
        CHECK(verifier.verify({"1531420619", kDocSignature, kDocBody}, now) == SignatureVerdict::BadSignature);
    }
    SUBCASE("the right digest with another version, upper case, or cut short") {
        std::string v1 = "v1=" + std::string(kDocSignature.substr(3));
        std::string upper(kDocSignature);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        upper[0] = 'v';
        CHECK(verifier.verify({kDocTimestamp, v1, kDocBody}, now) == SignatureVerdict::BadSignature);
        CHECK(verifier.verify({kDocTimestamp, upper, kDocBody}, now) == SignatureVerdict::BadSignature);
        CHECK(verifier.verify({kDocTimestamp, kDocSignature.substr(0, 66), kDocBody}, now) ==
              SignatureVerdict::BadSignature);
        CHECK(verifier.verify({kDocTimestamp, std::string(kDocSignature) + "0", kDocBody}, now) ==
              SignatureVerdict::BadSignature);
    }
}

TEST_CASE("timestamps more than five minutes away, either way, are refused as stale") {
    RequestVerifier verifier{std::string(kDocSecret)};
    CHECK(verifier.verify({kDocTimestamp, kDocSignature, kDocBody}, at(1531420618 + 300)) == SignatureVerdict::Valid);
    CHECK(verifier.verify({kDocTimestamp, kDocSignature, kDocBody}, at(1531420618 - 300)) == SignatureVerdict::Valid);
    CHECK(verifier.verify({kDocTimestamp, kDocSignature, kDocBody}, at(1531420618 + 301)) ==
          SignatureVerdict::StaleTimestamp);
    CHECK(verifier.verify({kDocTimestamp, kDocSignature, kDocBody}, at(1531420618 - 301)) ==
          SignatureVerdict::StaleTimestamp);
}

TEST_CASE("missing or unreadable headers are refused before any hashing") {
    RequestVerifier verifier{std::string(kDocSecret)};
    auto now = at(1531420618);
    CHECK(verifier.verify({"", kDocSignature, kDocBody}, now) == SignatureVerdict::MissingHeaders);
    CHECK(verifier.verify({kDocTimestamp, "", kDocBody}, now) == SignatureVerdict::MissingHeaders);
    CHECK(verifier.verify({"1531420618.5", kDocSignature, kDocBody}, now) == SignatureVerdict::MalformedTimestamp);
    CHECK(verifier.verify({" 1531420618", kDocSignature, kDocBody}, now) == SignatureVerdict::MalformedTimestamp);
    CHECK(verifier.verify({"99999999999999999999999", kDocSignature, kDocBody}, now) ==
          SignatureVerdict::MalformedTimestamp);
    CHECK(verifier.verify({"-1531420618", kDocSignature, kDocBody}, now) == SignatureVerdict::StaleTimestamp);
}

TEST_CASE("a large body is signed and checked over every byte") {
    RequestVerifier verifier{"secret"};
    std::string body(4 * 1024 * 1024, 'x');
    std::string signature = verifier.sign("1700000000", body);
    CHECK(verifier.verify({"1700000000", signature, body}, at(1700000000)) == SignatureVerdict::Valid);
    body.back() = 'y';
    CHECK(verifier.verify({"1700000000", signature, body}, at(1700000000)) == SignatureVerdict::BadSignature);
}

TEST_CASE("every refusal explains itself without revealing the expected signature") {
    RequestVerifier verifier{std::string(kDocSecret)};
    for (auto verdict : {SignatureVerdict::MissingHeaders, SignatureVerdict::MalformedTimestamp,
                         SignatureVerdict::StaleTimestamp, SignatureVerdict::BadSignature}) {
        std::string text(describe(verdict));
        CHECK(text.find("X-Slack") != std::string::npos);
        CHECK(text.find(kDocSignature.substr(3, 16)) == std::string::npos);
    }
}
