#include "mxbridge/slack/web_api_client.h"

#include <algorithm>

#include <cpprest/http_client.h>

namespace mxbridge::slack {

namespace {

// Keys of calls that asked for no ordering: each its own queue, never equal to a channel id.
constexpr char kUnorderedPrefix[] = "\x01unordered/";

}  // namespace

WebApiClient::WebApiClient(WebApiClientOptions options) : options_(std::move(options)) {
    web::http::client::http_client_config config;
    config.set_timeout(options_.timeout);
    http_ = std::make_unique<web::http::client::http_client>(utility::conversions::to_string_t(options_.baseUrl),
                                                               config);
    for (unsigned i = 0; i < std::max(1u, options_.workers); ++i) workers_.emplace_back([this] { work(); });
}

WebApiClient::~WebApiClient() { shutdown(); }

void WebApiClient::shutdown() {
    {
        std::lock_guard lock(mutex_);
        if (shutDown_) return;
        shutDown_ = true;
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto& worker : workers_) worker.join();
    std::map<std::string, std::deque<Call>> left;
    {
        std::lock_guard lock(mutex_);
        left.swap(queues_);
    }
    WebApiFailure stopped{.kind = FailureKind::Retryable, .error = "shutting_down",
                          .message = "the bridge stopped before Slack got it"};
    for (auto& [key, queue] : left)
        for (auto& call : queue)
            if (call.done)
                call.done(WebApiResult{.answer = {.body = nullptr, .failure = stopped}, .grantedScopes = {},
                                       .attempts = call.attempts});
}

void WebApiClient::call(std::string method, WebApiArgs args, std::string orderKey, Callback done) {
    {
        std::unique_lock lock(mutex_);
        if (stopping_) {
            lock.unlock();
            WebApiFailure stopped{.kind = FailureKind::Retryable, .error = "shutting_down",
                                  .message = "the bridge is stopping"};
            if (done) done(WebApiResult{.answer = {.body = nullptr, .failure = stopped}, .grantedScopes = {},
                                        .attempts = 0});
            return;
        }
        if (orderKey.empty()) orderKey = kUnorderedPrefix + std::to_string(unorderedSeq_++);
        queues_[orderKey].push_back(Call{.method = std::move(method), .args = std::move(args), .done = std::move(done)});
    }
    changed_.notify_one();
}

WebApiResult WebApiClient::callAndWait(std::string method, WebApiArgs args) {
    std::mutex doneMutex;
    std::condition_variable doneChanged;
    std::optional<WebApiResult> result;
    call(std::move(method), std::move(args), {}, [&](const WebApiResult& r) {
        std::lock_guard lock(doneMutex);
        result = r;
        doneChanged.notify_all();
    });
    std::unique_lock lock(doneMutex);
    doneChanged.wait(lock, [&] { return result.has_value(); });
    return *result;
}

std::size_t WebApiClient::queued() {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [key, queue] : queues_) n += queue.size();
    return n;
}

std::optional<std::string> WebApiClient::readyKey(Clock::time_point now, Clock::time_point& wakeAt) {
    wakeAt = Clock::time_point::max();
    for (auto& [key, queue] : queues_) {
        if (queue.empty() || running_.count(key)) continue;
        const Call& head = queue.front();
        Clock::time_point allowed = head.notBefore;
        if (auto blocked = methodBlockedUntil_.find(head.method); blocked != methodBlockedUntil_.end())
            allowed = std::max(allowed, blocked->second);
        if (allowed <= now) return key;
        wakeAt = std::min(wakeAt, allowed);
    }
    return std::nullopt;
}

void WebApiClient::work() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        Clock::time_point wakeAt;
        std::optional<std::string> key = readyKey(Clock::now(), wakeAt);
        if (!key) {
            if (wakeAt == Clock::time_point::max()) changed_.wait(lock);
            else changed_.wait_until(lock, wakeAt);
            continue;
        }
        running_.insert(*key);
        Call call = std::move(queues_[*key].front());
        queues_[*key].pop_front();
        ++call.attempts;
        lock.unlock();

        Attempt attempt = send(call);
        WebApiResult result{.answer = classifyAnswer(attempt.status, attempt.retryAfter, attempt.body),
                            .grantedScopes = attempt.grantedScopes,
                            .attempts = call.attempts};

        lock.lock();
        running_.erase(*key);
        const auto& failure = result.answer.failure;
        bool again = false;
        if (failure && failure->kind == FailureKind::RateLimited && !stopping_) {
            // The same call goes first again once the method's window reopens: order holds.
            methodBlockedUntil_[call.method] = Clock::now() + failure->retryAfter;
            --call.attempts;  // waiting out a limit is not a failed attempt
            again = true;
        } else if (failure && failure->kind == FailureKind::Retryable && call.attempts < options_.maxAttempts &&
                   !stopping_) {
            call.notBefore = Clock::now() + Backoff::delayAfter(options_.retryBackoff,
                                                                static_cast<uint32_t>(call.attempts - 1));
            again = true;
        }
        if (again) {
            queues_[*key].push_front(std::move(call));
        } else {
            if (queues_[*key].empty()) queues_.erase(*key);
            lock.unlock();
            if (call.done) {
                try {
                    call.done(result);
                } catch (...) {
                    // A callback's trouble is its own; the worker goes on with other calls.
                }
            }
            lock.lock();
        }
        changed_.notify_all();
    }
}

std::optional<FetchedFile> fetchFile(const std::string& url, std::chrono::seconds timeout, std::size_t maxBytes,
                                     const std::string& bearerToken) {
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) return std::nullopt;
    try {
        web::http::client::http_client_config config;
        config.set_timeout(timeout);
        web::http::client::http_client client(utility::conversions::to_string_t(url), config);
        web::http::http_request request(web::http::methods::GET);
        if (!bearerToken.empty()) request.headers().add("Authorization", "Bearer " + bearerToken);
        web::http::http_response response = client.request(request).get();
        if (response.status_code() != 200) return std::nullopt;
        if (response.headers().has(web::http::header_names::content_length) &&
            response.headers().content_length() > maxBytes)
            return std::nullopt;
        std::vector<unsigned char> bytes = response.extract_vector().get();
        if (bytes.size() > maxBytes) return std::nullopt;
        return FetchedFile{.bytes = std::string(bytes.begin(), bytes.end()),
                           .contentType = response.headers().content_type()};
    } catch (...) {
        return std::nullopt;  // unreachable, refused, timed out: no file
    }
}

bool uploadFile(const std::string& uploadUrl, const std::string& bytes, std::chrono::seconds timeout) {
    try {
        web::http::client::http_client_config config;
        config.set_timeout(timeout);
        web::http::client::http_client client(utility::conversions::to_string_t(uploadUrl), config);
        web::http::http_request request(web::http::methods::POST);
        request.set_body(std::vector<unsigned char>(bytes.begin(), bytes.end()));
        request.headers().set_content_type("application/octet-stream");
        return client.request(request).get().status_code() == 200;
    } catch (...) {
        return false;
    }
}

WebApiClient::Attempt WebApiClient::send(const Call& call) {
    Attempt attempt;
    try {
        web::http::http_request request(web::http::methods::POST);
        request.set_request_uri(utility::conversions::to_string_t(call.method));
        request.headers().add("Authorization", "Bearer " + options_.token);
        if (!options_.cookie.empty()) request.headers().add("Cookie", "d=" + options_.cookie);
        request.set_body(formEncode(call.args), "application/x-www-form-urlencoded");
        web::http::http_response response = http_->request(request).get();
        attempt.status = response.status_code();
        const auto& headers = response.headers();
        if (auto it = headers.find("Retry-After"); it != headers.end()) attempt.retryAfter = it->second;
        if (auto it = headers.find("x-oauth-scopes"); it != headers.end()) attempt.grantedScopes = it->second;
        std::vector<unsigned char> bytes = response.extract_vector().get();
        attempt.body.assign(bytes.begin(), bytes.end());
    } catch (...) {
        // No answer (refused, reset, timed out): status 0 is classified as retryable.
        attempt = Attempt{};
    }
    return attempt;
}

}  // namespace mxbridge::slack
