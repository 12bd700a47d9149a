// A stand-in for Slack's Web API on 127.0.0.1, for tests of the Slack bridge. Every request
// is checked strictly against Slack's published API description (../shared/slack-api, or
// MXBRIDGE_SLACK_API_DIR; see its SOURCE.md): the method must exist and not be retired,
// arguments must be declared, required ones present and of the declared type, the token sent
// as Slack takes it. Whatever fails a check is recorded in violations() (a test asserts none)
// and answered as Slack would refuse it. The few methods the bridge uses are served from a
// small in-memory workspace; faults (429 storms, errors, a revoked token) are scripted.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxbridge::test {

class TestHttpServer;
struct HttpRequest;
struct HttpResponse;

// The slack-api folder, or nullopt when it (or its spec file) is absent.
std::optional<std::filesystem::path> slackApiDir();
// Exits 77 (CTest: skipped) with a message when the folder is absent.
void requireSlackApiOrSkip(const char* testName);

struct SlackDoubleOptions {
    std::string botToken = "xoxb-0000000001-double-bot-token";
    // The app-level token (Socket Mode), the only one apps.connections.open takes.
    std::string appToken = "xapp-1-A0DOUBLE1-0000000001-double-app-token";
    // Granular scopes the bot token was granted (sent back in x-oauth-scopes).
    std::vector<std::string> botScopes = {"chat:write", "chat:write.customize", "users:read",
                                          "channels:read", "channels:history", "files:read", "files:write",
                                          "reactions:read", "reactions:write"};
    std::string teamId = "T0DOUBLE1";
    std::string teamName = "Double Workspace";
    std::string botUserId = "U0BOTUSR1";
    std::string botId = "B0BOTID01";
    std::string appId = "A0DOUBLE1";
};

struct SlackUser {
    std::string id;
    std::string name;         // the handle
    std::string realName;
    std::string displayName;  // may be empty: Slack clients then show realName
    std::string avatarUrl;    // profile.image_512
    bool isBot = false;
};

// A Slack user's own token, for puppeting: auth.test answers as that user and what it posts
// is theirs (no bot id). A desktop client token (xoxc-) works only with its `d` cookie, and
// lists no scopes.
struct SlackUserToken {
    std::string token;  // xoxp-… or xoxc-…
    std::string userId;
    std::vector<std::string> scopes = {"chat:write"};  // user scopes; ignored for xoxc-
    std::string cookie{};                              // the d cookie an xoxc- token needs
};

// A file uploaded through files.getUploadURLExternal and the upload URL.
struct SlackUpload {
    std::string fileId;
    std::string filename;
    std::string bytes;
    std::string channel;         // set by files.completeUploadExternal
    std::string initialComment;
    bool completed = false;
    std::string user{};  // whose token asked for the upload URL: the bot user, or a user's
};

// A message as the double stored it.
struct SlackPost {
    std::string channel;
    std::string ts;
    std::string text;
    std::string username;  // chat:write.customize
    std::string iconUrl;
    std::string threadTs;
    bool deleted = false;
    std::string user{};  // who posted it: the bot user, or the owner of a user token
    bool me = false;     // chat.meMessage: a /me
};

// A reaction made through reactions.add (and not removed).
struct SlackReaction {
    std::string channel;
    std::string ts;
    std::string user;  // the bot user, or the owner of a user token
    std::string name;
    friend bool operator==(const SlackReaction&, const SlackReaction&) = default;
};

class SlackDouble {
public:
    explicit SlackDouble(SlackDoubleOptions options = {});
    ~SlackDouble();

    // "http://127.0.0.1:<port>/api/": the bridge's Web API base URL.
    std::string apiUrl() const;
    // A URL the double serves `bytes` at as image/png, as Slack serves avatars.
    std::string addAvatar(const std::string& name, const std::string& bytes);
    // A shared file's url_private: served only with the bot token, and only while the token
    // has files:read, as Slack does.
    std::string addFile(const std::string& name, const std::string& bytes);
    const SlackDoubleOptions& options() const { return options_; }

    void addUser(SlackUser user);
    void addChannel(const std::string& id, const std::string& name);

    // The next `count` calls of `method` are answered 429 with Retry-After `seconds`.
    void rateLimit(const std::string& method, int count, int retryAfterSeconds);
    // The next `count` calls of `method` are served at once but answered `delay` later, as
    // when Slack delivers the event of a post before the post's answer reaches the poster.
    void delayAnswers(const std::string& method, std::chrono::milliseconds delay, int count = 1);
    // The next `count` calls of `method` are answered {"ok": false, "error": error}.
    void failNext(const std::string& method, const std::string& error, int count = 1);
    // Every call with the bot token is answered token_revoked from now on.
    void revokeToken();
    void addUserToken(SlackUserToken token);
    // Every call with this user token is answered `error` (token_revoked, account_inactive…)
    // from now on.
    void revokeUserToken(const std::string& token, const std::string& error = "token_revoked");
    // Where apps.connections.open sends the app (SocketModeDouble::nextUrl); unset, the
    // double refuses it as a workspace without Socket Mode would.
    void serveSocketMode(std::function<std::string()> nextUrl);

    std::vector<SlackPost> posts() const;
    std::vector<SlackUpload> uploads() const;
    std::vector<SlackReaction> reactions() const;
    std::vector<std::string> violations() const;
    // Methods called, in arrival order (rate-limited and refused calls included).
    std::vector<std::string> calls() const;
    int callCount(const std::string& method) const;

private:
    struct Parameter {
        std::string type;  // string, boolean, integer, number
        bool required = false;
    };
    struct Method {
        std::map<std::string, Parameter> parameters;  // token excluded
        bool tokenRequired = false;
        bool tokenInHeaderOnly = false;               // apps.connections.open
    };

    void loadDescription(const std::filesystem::path& dir);
    HttpResponse handle(const HttpRequest& request);
    HttpResponse handleLocked(const HttpRequest& request, std::chrono::milliseconds& delay);
    // The arguments of a request, or the reason they cannot be read.
    std::optional<std::map<std::string, std::string>> argumentsOf(const HttpRequest& request,
                                                                   std::string& problem) const;
    std::vector<std::string> check(const std::string& name, const Method& method,
                                   const std::map<std::string, std::string>& args, bool tokenFromBody) const;
    // Whose token a call carries: the bot's, or a user's.
    struct Caller {
        std::string userId;
        bool isBot = true;
        std::vector<std::string> scopes;
        bool listsScopes = true;  // false for desktop client tokens
    };
    nlohmann::json serve(const std::string& method, const std::map<std::string, std::string>& args,
                         const Caller& caller);
    nlohmann::json userJson(const SlackUser& user) const;
    std::string nextTs();

    SlackDoubleOptions options_;
    std::map<std::string, Method> methods_;
    std::map<std::string, std::string> retired_;  // method -> why
    mutable std::mutex mutex_;
    std::map<std::string, SlackUser> users_;
    std::map<std::string, std::string> channels_;  // id -> name
    std::map<std::string, std::string> avatars_;   // path -> bytes
    std::map<std::string, std::string> files_;     // path -> bytes
    std::map<std::string, std::pair<int, int>> rateLimits_;                // method -> count, seconds
    std::map<std::string, std::pair<std::string, int>> failures_;          // method -> error, count
    std::map<std::string, std::pair<std::chrono::milliseconds, int>> delays_;  // method -> delay, count
    bool revoked_ = false;
    std::map<std::string, SlackUserToken> userTokens_;    // by token
    std::map<std::string, std::string> revokedUserTokens_;  // token -> error
    std::function<std::string()> socketUrl_;
    std::vector<SlackPost> posts_;
    std::vector<SlackUpload> uploads_;
    std::vector<SlackReaction> reactions_;
    std::vector<std::string> violations_;
    std::vector<std::string> calls_;
    int64_t tsSeconds_ = 1700000000;
    int tsCounter_ = 0;
    std::unique_ptr<TestHttpServer> server_;
};

}  // namespace mxbridge::test
