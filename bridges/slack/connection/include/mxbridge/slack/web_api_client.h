// Slack's Web API over HTTPS (cpprestsdk's http_client), for the bridge's calls: each call is
// queued under an ordering key (a channel's id), and calls with the same key run one at a
// time in the order they were queued, so a channel's messages arrive in order even when some
// are rate limited or retried. A 429 holds back that method (Slack's limits are per method and
// workspace) for Retry-After and then sends the same call again; trouble on Slack's side is
// retried with back-off; everything else ends the call with a failure saying what happened.
// Like api/, this includes nothing from the framework but its back-off.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mxbridge/backoff.h"
#include "mxbridge/slack/web_api.h"

namespace web::http::client {
class http_client;
}

namespace mxbridge::slack {

struct WebApiClientOptions {
    std::string baseUrl = "https://slack.com/api/";  // ends in '/'; the Slack double's in tests
    std::string token{};                             // xoxb-… (bot), xoxp-… (user) or xoxc-… (desktop client)
    // The desktop client's `d` cookie (xoxd-…): an xoxc- token works only with it. Sent as
    // `Cookie: d=<value>`; empty: no cookie.
    std::string cookie{};
    std::chrono::seconds timeout{30};
    // Attempts for a call that meets Slack-side trouble, before it fails as retryable.
    int maxAttempts = 5;
    BackoffOptions retryBackoff{.initial = std::chrono::milliseconds(500), .max = std::chrono::seconds(30)};
    // Calls running at once (different ordering keys).
    unsigned workers = 2;
};

// One finished call: the answer, and the x-oauth-scopes header (the token's scopes).
struct WebApiResult {
    WebApiAnswer answer{};
    std::string grantedScopes{};
    int attempts = 0;
};

// A file Slack links to: an avatar (public), or a shared file's url_private (`bearerToken`:
// the bot token, which needs files:read). A GET of at most `maxBytes`; nullopt when it cannot
// be had (the caller goes on without it).
struct FetchedFile {
    std::string bytes;
    std::string contentType;
};
std::optional<FetchedFile> fetchFile(const std::string& url, std::chrono::seconds timeout, std::size_t maxBytes,
                                     const std::string& bearerToken = {});

// The bytes of a file to the upload_url files.getUploadURLExternal gave: a POST of the raw
// bytes; true when Slack answered 200, the only answer that means it has them.
bool uploadFile(const std::string& uploadUrl, const std::string& bytes, std::chrono::seconds timeout);

class WebApiClient {
public:
    using Callback = std::function<void(const WebApiResult&)>;

    explicit WebApiClient(WebApiClientOptions options);
    // Takes no more calls; waits for those in flight; calls still queued (waiting out a rate
    // limit, say) end at once with a Retryable "shutting_down" failure, in order, so nobody
    // waiting in callAndWait waits past shutdown. Idempotent; the destructor calls it.
    void shutdown();
    ~WebApiClient();
    WebApiClient(const WebApiClient&) = delete;
    WebApiClient& operator=(const WebApiClient&) = delete;

    // Queues `method` (e.g. "chat.postMessage") with `args`; `done` runs on a worker thread
    // once it succeeded or failed for good. An empty `orderKey` means no ordering.
    void call(std::string method, WebApiArgs args, std::string orderKey, Callback done);
    // The same, waiting for the result (for startup checks; never on a worker thread).
    WebApiResult callAndWait(std::string method, WebApiArgs args);

    // Calls waiting or running.
    std::size_t queued();

private:
    using Clock = std::chrono::steady_clock;
    struct Call {
        std::string method;
        WebApiArgs args;
        Callback done;
        int attempts = 0;
        Clock::time_point notBefore{};
    };
    struct Attempt {
        int status = 0;
        std::string retryAfter;
        std::string body;
        std::string grantedScopes;
    };

    void work();
    Attempt send(const Call& call);
    // A key whose first call may start now, else when the next one may (holds mutex_).
    std::optional<std::string> readyKey(Clock::time_point now, Clock::time_point& wakeAt);

    WebApiClientOptions options_;
    std::unique_ptr<web::http::client::http_client> http_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    bool shutDown_ = false;
    uint64_t unorderedSeq_ = 0;
    std::map<std::string, std::deque<Call>> queues_;  // by ordering key
    std::set<std::string> running_;                   // keys with a call in flight
    std::map<std::string, Clock::time_point> methodBlockedUntil_;
    std::vector<std::thread> workers_;
};

}  // namespace mxbridge::slack
