// Puppeting logins (login.h). `!login slack` takes a user token (xoxp-…, a Slack app's User
// OAuth Token) or, as the desktop client works, its token (xoxc-…) with the browser's `d`
// cookie; auth.test checks it (Slack's refusal in words, another workspace refused, a user
// token without the user scopes puppeting needs refused naming them), and the framework stores
// it, sealed, as the login's secret. A stored login's remote client is a SlackPuppet: a Web
// API client acting as the user. Whenever Slack refuses its token (token_revoked,
// invalid_auth, account_inactive…) the puppet says BadCredentials through its handle, so the
// framework tells the owner in their DM, and the connector stops using it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mxbridge/connector.h"
#include "mxbridge/slack/web_api_client.h"

namespace mxbridge::slack {

// What a login's sealed secret holds.
struct UserCredentials {
    std::string token;   // xoxp-… or xoxc-…
    std::string cookie;  // the `d` cookie (xoxd-…) an xoxc- token needs; empty for xoxp-
};

// As stored in Login::secret: one JSON object ({"token", "cookie"}).
std::string credentialsSecret(const UserCredentials& credentials);
// nullopt for a secret that is not such an object or holds no token.
std::optional<UserCredentials> readCredentials(const std::string& secret);

// The user scopes a user token (xoxp-) needs for puppeting. Desktop client tokens carry the
// client's own rights and list no scopes.
const std::vector<std::string>& puppetScopes();

// The login flows: "token" (xoxp-) first, "cookie" (xoxc- with its d cookie).
std::vector<LoginFlow> slackLoginFlows();

// auth.test with a login's credentials; injected so the flow can be tested without Slack.
using AuthTest = std::function<WebApiResult(const UserCredentials&)>;
// The workspace the bridge serves (from the bot token's auth.test), nullopt while unknown.
using BridgeTeam = std::function<std::optional<std::string>()>;

// One `!login slack [token|cookie]` in progress.
class SlackLoginProcess final : public LoginProcess {
public:
    SlackLoginProcess(std::string flow, BridgeTeam bridgeTeam, AuthTest authTest)
        : flow_(std::move(flow)), bridgeTeam_(std::move(bridgeTeam)), authTest_(std::move(authTest)) {}
    Result<LoginStep> start() override;
    Result<LoginStep> submit(const LoginInput& input) override;

private:
    std::string flow_;  // "token" or "cookie"
    BridgeTeam bridgeTeam_;
    AuthTest authTest_;
};

// Shuts Web API clients down away from the caller (a shutdown waits for calls in flight, and
// RemoteClient::disconnect must return at once); finish() waits for all of them, at stop.
class ClientRetirer {
public:
    ~ClientRetirer() { finish(); }
    void retire(std::shared_ptr<WebApiClient> client);
    void finish();

private:
    std::mutex mutex_;
    std::vector<std::thread> threads_;
};

// Posts made with users' tokens that Slack has not answered yet, by (Slack user, channel).
// Slack may deliver a post's message event before its chat.postMessage answer (which names its
// ts) arrives: the event worker waits here for that user's posts in that channel to settle
// before deciding whether the event is one of them.
class PostsInFlight {
public:
    void sending(const std::string& user, const std::string& channel);
    void settled(const std::string& user, const std::string& channel);
    // Returns once none is in flight for (user, channel), after `limit`, or at stop().
    void waitSettled(const std::string& user, const std::string& channel, std::chrono::milliseconds limit);
    void stop();

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::pair<std::string, std::string>, int> inFlight_;
    bool stopped_ = false;
};

// One stored login's client: the user's token in a Web API client of its own (made at
// connect(): makeClient must not touch the network), checked with auth.test on connect.
class SlackPuppet final : public RemoteClient {
public:
    SlackPuppet(const Login& login, UserCredentials credentials, WebApiClientOptions base,
                RemoteClientHandle handle, ClientRetirer& retirer);
    ~SlackPuppet() override { disconnect(); }
    void connect() override;
    void disconnect() override;
    // It holds no connection open, only a token: reaping would only lose the refused state.
    bool reapable() const override { return false; }

    const UserId& owner() const { return owner_; }
    // The user's Slack id (U…), from the login.
    const std::string& slackUserId() const { return slackUserId_; }
    // Slack has not refused the token and the client is not retired: posts may go out as them.
    bool usable() const;
    // Queues `method` as the user. False, with `done` not called, when the puppet is not
    // usable (the caller relays instead). A bad-credentials answer has made the puppet
    // unusable and been reported through the handle before `done` sees it.
    bool call(std::string method, WebApiArgs args, std::string orderKey, WebApiClient::Callback done);

private:
    // What callbacks of the Web API client may touch after the puppet is gone.
    struct Shared {
        RemoteClientHandle handle;
        std::atomic<bool> refused{false};
        // Reports a bad-credentials answer once and turns the puppet unusable.
        void refusedBy(const WebApiFailure& failure);
    };

    const UserId owner_;
    const std::string slackUserId_;
    const UserCredentials credentials_;
    const WebApiClientOptions base_;
    ClientRetirer& retirer_;
    std::shared_ptr<Shared> shared_;
    mutable std::mutex mutex_;
    std::shared_ptr<WebApiClient> client_;  // set from connect() to disconnect()
    bool retired_ = false;
};

}  // namespace mxbridge::slack
