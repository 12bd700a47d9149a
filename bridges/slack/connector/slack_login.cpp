#include "slack_login.h"

#include <nlohmann/json.hpp>

namespace mxbridge::slack {

namespace {

constexpr std::size_t kMaxCredentialBytes = 1024;

std::string trimmed(const std::string& s) {
    std::size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Tokens are letters, digits and dashes: anything else would end up in an HTTP header.
bool isTokenText(const std::string& token) {
    if (token.empty() || token.size() > kMaxCredentialBytes) return false;
    for (char c : token)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

// A cookie value as RFC 6265 allows it (the d cookie is percent-encoded): no space, quote,
// comma, semicolon, backslash or control character, so it cannot break out of its header.
bool isCookieText(const std::string& value) {
    if (value.empty() || value.size() > kMaxCredentialBytes) return false;
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') return false;
    }
    return true;
}

// What people paste for the cookie: its value, "d=<value>", or the whole Cookie header line.
std::string cookieValue(const std::string& pasted) {
    std::string text = trimmed(pasted);
    if (text.rfind("Cookie:", 0) == 0) text = trimmed(text.substr(7));
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find(';', start);
        std::string part = trimmed(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (part.rfind("d=", 0) == 0) return part.substr(2);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return text;
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
}

}  // namespace

std::string credentialsSecret(const UserCredentials& credentials) {
    nlohmann::json secret = {{"token", credentials.token}};
    if (!credentials.cookie.empty()) secret["cookie"] = credentials.cookie;
    return secret.dump();
}

std::optional<UserCredentials> readCredentials(const std::string& secret) {
    nlohmann::json json = nlohmann::json::parse(secret, nullptr, false);
    if (!json.is_object() || !json.contains("token") || !json["token"].is_string()) return std::nullopt;
    UserCredentials credentials{.token = json["token"].get<std::string>(), .cookie = {}};
    if (json.contains("cookie") && json["cookie"].is_string()) credentials.cookie = json["cookie"].get<std::string>();
    if (!isTokenText(credentials.token) || (!credentials.cookie.empty() && !isCookieText(credentials.cookie)))
        return std::nullopt;
    return credentials;
}

const std::vector<std::string>& puppetScopes() {
    // chat:write posts, edits and deletes as the user.
    static const std::vector<std::string> scopes = {"chat:write"};
    return scopes;
}

std::vector<LoginFlow> slackLoginFlows() {
    return {LoginFlow{.id = "token", .name = "User token",
                      .description = "a user token (xoxp-…) of a Slack app with the user scope chat:write"},
            LoginFlow{.id = "cookie", .name = "Desktop client token",
                      .description = "the Slack web client's token (xoxc-…) and its d cookie (xoxd-…)"}};
}

// --- The login flow --------------------------------------------------------------------------------

Result<LoginStep> SlackLoginProcess::start() {
    LoginStep step;
    step.kind = LoginStep::Kind::Fields;
    if (flow_ == "cookie") {
        step.instructions =
            "Logging in to Slack as the web client does: in Slack in your browser, the token (xoxc-…) is in the "
            "page's local storage (localConfig_v2, teams, your workspace, token) and the d cookie (xoxd-…) among "
            "the site's cookies. Your messages from Matrix are then posted as you.";
        step.fields = {
            LoginField{.id = "token", .label = "Your Slack client token (xoxc-…)", .kind = LoginField::Kind::Secret,
                       .required = true, .defaultValue = {}},
            LoginField{.id = "cookie", .label = "The d cookie of the same browser session (xoxd-…)",
                       .kind = LoginField::Kind::Secret, .required = true, .defaultValue = {}},
        };
    } else {
        step.instructions =
            "Logging in to Slack with your user token: in the Slack app's settings, OAuth & Permissions, add the "
            "User Token Scope chat:write, install the app for yourself and copy the User OAuth Token (xoxp-…). "
            "Your messages from Matrix are then posted as you.";
        step.fields = {LoginField{.id = "token", .label = "Your Slack user token (xoxp-…)",
                                  .kind = LoginField::Kind::Secret, .required = true, .defaultValue = {}}};
    }
    return step;
}

Result<LoginStep> SlackLoginProcess::submit(const LoginInput& input) {
    const Secret<std::string>* tokenField = input.secret("token");
    UserCredentials credentials{.token = tokenField ? trimmed(tokenField->reveal()) : std::string(), .cookie = {}};
    if (credentials.token.rfind("Bearer ", 0) == 0) credentials.token = trimmed(credentials.token.substr(7));
    const std::string expected = flow_ == "cookie" ? "xoxc-" : "xoxp-";
    if (credentials.token.rfind("xoxb-", 0) == 0)
        return Error::permanent("M_INVALID_PARAM", "That is a bot token (xoxb-…); logging in needs your own token (" +
                                                       expected + "…), so that messages are yours on Slack.");
    if (flow_ != "cookie" && credentials.token.rfind("xoxc-", 0) == 0)
        return Error::permanent("M_INVALID_PARAM",
                                "That is a desktop client token (xoxc-…): it needs the d cookie too. Send "
                                "!login slack cookie to log in with both.");
    if (credentials.token.rfind(expected, 0) != 0 || !isTokenText(credentials.token))
        return Error::permanent("M_INVALID_PARAM", "That is not a Slack token of the kind asked for (" + expected + "…).");
    if (flow_ == "cookie") {
        const Secret<std::string>* cookieField = input.secret("cookie");
        credentials.cookie = cookieField ? cookieValue(cookieField->reveal()) : std::string();
        if (!isCookieText(credentials.cookie))
            return Error::permanent("M_INVALID_PARAM", "That is not a cookie value (the d cookie looks like xoxd-…).");
    }

    std::optional<std::string> team = bridgeTeam_();
    if (!team)
        return Error::transient("slack_not_ready", "The bridge has not reached Slack yet, so it cannot check your "
                                                   "token; try again in a minute (!slack-status says why).");
    WebApiResult result = authTest_(credentials);
    if (!result.answer.ok()) {
        const WebApiFailure& failure = *result.answer.failure;
        if (failure.kind == FailureKind::BadCredentials)
            return Error::permanent("slack_" + failure.error,
                                    "Slack refused the token: " + failure.message +
                                        (flow_ == "cookie" ? " (a client token works only with the d cookie of the "
                                                             "same browser session)."
                                                           : "."));
        return Error::transient("slack_" + failure.error,
                                "Slack could not check the token (" + failure.message + "); try again.");
    }
    const nlohmann::json& body = result.answer.body;
    std::string teamId = body.value("team_id", std::string());
    if (teamId != *team)
        return Error::permanent("slack_other_workspace",
                                "That token is for the workspace " + body.value("team", std::string()) + " (" + teamId +
                                    "); this bridge serves " + *team + ".");
    // Desktop client tokens list no scopes: they may do what the client does.
    if (flow_ != "cookie") {
        std::vector<std::string> missing = missingScopes(result.grantedScopes, puppetScopes());
        if (!missing.empty())
            return Error::permanent("slack_missing_scope",
                                    "The token lacks the user scope " + joined(missing) +
                                        ": add it under OAuth & Permissions, User Token Scopes, reinstall the app "
                                        "and log in with the new token.");
    }
    std::string userId = body.value("user_id", std::string());
    if (userId.empty())
        return Error::permanent("slack_no_user", "Slack did not say whose token that is; it cannot post as you.");
    Login login;
    login.remoteName = body.value("user", userId);
    login.secret = Secret<std::string>(credentialsSecret(credentials));
    login.data = {{"user_id", userId}, {"team_id", teamId}, {"token_kind", flow_ == "cookie" ? "client" : "user"}};
    LoginStep done;
    done.kind = LoginStep::Kind::Complete;
    done.login = std::move(login);
    return done;
}

// --- Retiring clients --------------------------------------------------------------------------------

void ClientRetirer::retire(std::shared_ptr<WebApiClient> client) {
    if (!client) return;
    std::lock_guard lock(mutex_);
    threads_.emplace_back([client = std::move(client)] { client->shutdown(); });
}

void ClientRetirer::finish() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
}

// --- Posts in flight ---------------------------------------------------------------------------------

void PostsInFlight::sending(const std::string& user, const std::string& channel) {
    std::lock_guard lock(mutex_);
    ++inFlight_[{user, channel}];
}

void PostsInFlight::settled(const std::string& user, const std::string& channel) {
    {
        std::lock_guard lock(mutex_);
        auto it = inFlight_.find({user, channel});
        if (it == inFlight_.end()) return;
        if (--it->second <= 0) inFlight_.erase(it);
    }
    changed_.notify_all();
}

void PostsInFlight::waitSettled(const std::string& user, const std::string& channel, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return stopped_ || !inFlight_.count({user, channel}); });
}

void PostsInFlight::stop() {
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
    }
    changed_.notify_all();
}

// --- The puppet --------------------------------------------------------------------------------------

void SlackPuppet::Shared::refusedBy(const WebApiFailure& failure) {
    if (refused.exchange(true)) return;
    handle.report(RemoteStatus{.state = RemoteState::BadCredentials,
                               .reason = failure.message + "; until you send !login slack again, the bridge "
                                                           "posts your messages under your name",
                               .code = failure.error});
}

SlackPuppet::SlackPuppet(const Login& login, UserCredentials credentials, WebApiClientOptions base,
                         RemoteClientHandle handle, ClientRetirer& retirer)
    : owner_(login.user), slackUserId_(login.data.value("user_id", std::string())),
      credentials_(std::move(credentials)), base_(std::move(base)), retirer_(retirer),
      shared_(std::make_shared<Shared>()) {
    shared_->handle = std::move(handle);
}

void SlackPuppet::connect() {
    WebApiClientOptions options = base_;
    options.token = credentials_.token;
    options.cookie = credentials_.cookie;
    options.workers = 1;
    auto client = std::make_shared<WebApiClient>(options);
    {
        std::lock_guard lock(mutex_);
        if (retired_ || client_) return;
        client_ = client;
    }
    shared_->handle.report(RemoteStatus{.state = RemoteState::Connecting, .reason = {}, .code = {}});
    client->call("auth.test", {}, {}, [shared = shared_, expected = slackUserId_](const WebApiResult& result) {
        if (result.answer.ok()) {
            if (result.answer.body.value("user_id", std::string()) != expected) {
                shared->refusedBy(WebApiFailure{.kind = FailureKind::BadCredentials, .error = "other_user",
                                                .message = "the stored token is now someone else's",
                                                .neededScope = {}, .retryAfter = {}});
                return;
            }
            shared->handle.report(RemoteStatus{.state = RemoteState::Connected, .reason = {}, .code = {}});
            return;
        }
        const WebApiFailure& failure = *result.answer.failure;
        if (failure.error == "shutting_down") return;
        if (failure.kind == FailureKind::BadCredentials) return shared->refusedBy(failure);
        // Slack could not be asked: the next post will tell.
        shared->handle.report(RemoteStatus{.state = RemoteState::TransientDisconnect, .reason = failure.message,
                                           .code = failure.error});
    });
}

void SlackPuppet::disconnect() {
    std::shared_ptr<WebApiClient> client;
    {
        std::lock_guard lock(mutex_);
        retired_ = true;
        client = std::move(client_);
    }
    retirer_.retire(std::move(client));
}

bool SlackPuppet::usable() const {
    std::lock_guard lock(mutex_);
    return client_ && !shared_->refused.load();
}

bool SlackPuppet::call(std::string method, WebApiArgs args, std::string orderKey, WebApiClient::Callback done) {
    std::shared_ptr<WebApiClient> client;
    {
        std::lock_guard lock(mutex_);
        if (!client_ || shared_->refused.load()) return false;
        client = client_;
    }
    shared_->handle.touch();
    client->call(std::move(method), std::move(args), std::move(orderKey),
                 [shared = shared_, done = std::move(done)](const WebApiResult& result) {
                     if (!result.answer.ok() && result.answer.failure->kind == FailureKind::BadCredentials)
                         shared->refusedBy(*result.answer.failure);
                     if (done) done(result);
                 });
    return true;
}

}  // namespace mxbridge::slack
