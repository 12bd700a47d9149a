// Slack's request signing (v0) for the Events API over HTTP: each POST carries
// X-Slack-Request-Timestamp and X-Slack-Signature = "v0=" + hex HMAC-SHA256 of
// "v0:<timestamp>:<raw body>" keyed with the app's signing secret. The check runs on the raw
// bytes before anything parses them, compares in constant time, and refuses timestamps more
// than five minutes away from now in either direction (a captured request cannot be replayed
// later, nor one pre-dated for later use).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace mxbridge::slack {

enum class SignatureVerdict {
    Valid,
    MissingHeaders,      // no timestamp or no signature header
    MalformedTimestamp,  // not a decimal number of seconds
    StaleTimestamp,      // more than the window away from now, either way
    BadSignature,        // wrong version, wrong length, or not the HMAC of this body
};

// For logs and the 401's body: what was wrong, never the expected signature.
std::string_view describe(SignatureVerdict verdict);

struct SignedRequest {
    std::string_view timestamp;  // X-Slack-Request-Timestamp
    std::string_view signature;  // X-Slack-Signature
    std::string_view body;       // the raw bytes as received
};

class RequestVerifier {
public:
    // Slack's documented window is five minutes.
    static constexpr std::chrono::seconds kDefaultWindow{300};

    explicit RequestVerifier(std::string signingSecret,
                             std::chrono::seconds window = kDefaultWindow);

    SignatureVerdict verify(const SignedRequest& request,
                            std::chrono::system_clock::time_point now) const;
    // "v0=<64 hex digits>" for `timestamp` and `body`: what Slack would send (the Slack
    // double signs its deliveries with this).
    std::string sign(std::string_view timestamp, std::string_view body) const;

private:
    std::string secret_;
    std::chrono::seconds window_;
};

}  // namespace mxbridge::slack
