#include "slack_double.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "test_http_server.h"

namespace mxbridge::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSpecFile = "slack-api-specs/web-api/slack_web_openapi_v2_without_examples.json";

nlohmann::json readJson(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return nlohmann::json::parse(in);
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a space); nullopt on a broken escape.
std::optional<std::string> formDecode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            int hi = i + 1 < text.size() ? hexValue(text[i + 1]) : -1;
            int lo = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool hasType(const std::string& type, const std::string& value) {
    if (type == "boolean") return value == "true" || value == "false" || value == "1" || value == "0";
    if (type == "integer") {
        std::size_t start = !value.empty() && value[0] == '-' ? 1 : 0;
        if (value.size() == start) return false;
        for (std::size_t i = start; i < value.size(); ++i)
            if (value[i] < '0' || value[i] > '9') return false;
        return true;
    }
    if (type == "number") {
        if (value.empty()) return false;
        char* end = nullptr;
        std::strtod(value.c_str(), &end);
        return end == value.c_str() + value.size();
    }
    return true;  // string (and the supplement's "JSON array …", sent as text)
}

// Granular scopes of the methods the double serves (Slack's method pages); the 2020 spec
// lists classic-app scopes, which new apps cannot have.
const std::map<std::string, std::string>& scopeOf() {
    static const std::map<std::string, std::string> scopes = {
        {"chat.postMessage", "chat:write"}, {"chat.update", "chat:write"}, {"chat.delete", "chat:write"},
        {"chat.meMessage", "chat:write"},
        {"users.info", "users:read"},       {"conversations.info", "channels:read"},
        {"files.getUploadURLExternal", "files:write"}, {"files.completeUploadExternal", "files:write"},
        {"reactions.add", "reactions:write"}, {"reactions.remove", "reactions:write"},
    };
    return scopes;
}

nlohmann::json refusal(const std::string& error) { return {{"ok", false}, {"error", error}}; }

// Whether the request's Cookie header carries d=<value>.
bool hasCookie(const HttpRequest& request, const std::string& value) {
    auto header = request.headers.find("cookie");
    if (header == request.headers.end() || value.empty()) return false;
    std::istringstream parts(header->second);
    for (std::string part; std::getline(parts, part, ';');) {
        std::size_t start = part.find_first_not_of(' ');
        if (start != std::string::npos && part.substr(start) == "d=" + value) return true;
    }
    return false;
}

}  // namespace

std::optional<fs::path> slackApiDir() {
    const char* env = std::getenv("MXBRIDGE_SLACK_API_DIR");
    fs::path dir = env && *env ? fs::path(env) : fs::path(MXBRIDGE_SLACK_API_DIR_DEFAULT);
    if (!fs::exists(dir / kSpecFile) || !fs::exists(dir / "SUPPLEMENT.json")) return std::nullopt;
    return dir;
}

void requireSlackApiOrSkip(const char* testName) {
    if (slackApiDir()) return;
    std::cerr << "SKIP: " << testName << ": Slack's API description is absent (expected "
              << MXBRIDGE_SLACK_API_DIR_DEFAULT << ", or set MXBRIDGE_SLACK_API_DIR)\n";
    std::exit(77);
}

SlackDouble::SlackDouble(SlackDoubleOptions options) : options_(std::move(options)) {
    std::optional<fs::path> dir = slackApiDir();
    if (!dir) throw std::runtime_error("Slack's API description is absent; call requireSlackApiOrSkip first");
    loadDescription(*dir);
    server_ = std::make_unique<TestHttpServer>([this](const HttpRequest& request) { return handle(request); });
}

SlackDouble::~SlackDouble() = default;

void SlackDouble::loadDescription(const fs::path& dir) {
    nlohmann::json spec = readJson(dir / kSpecFile);
    for (const auto& [path, operations] : spec.at("paths").items()) {
        Method method;
        for (const auto& [verb, operation] : operations.items()) {
            const nlohmann::json parameters = operation.value("parameters", nlohmann::json::array());
            for (const auto& parameter : parameters) {
                std::string name = parameter.value("name", "");
                if (name == "token") {
                    method.tokenRequired = method.tokenRequired || parameter.value("required", false);
                    continue;
                }
                method.parameters[name] = Parameter{parameter.value("type", "string"), parameter.value("required", false)};
            }
        }
        methods_[path.substr(1)] = std::move(method);  // "/chat.postMessage"
    }
    nlohmann::json supplement = readJson(dir / "SUPPLEMENT.json");
    for (const auto& [name, description] : supplement.at("methods_missing_from_spec").items()) {
        Method method;
        method.tokenRequired = true;
        method.tokenInHeaderOnly = description.value("auth", "").find("header ONLY") != std::string::npos;
        const nlohmann::json args = description.value("args", nlohmann::json::object());
        for (const auto& [arg, shape] : args.items())
            method.parameters[arg] = Parameter{shape.value("type", "string"), shape.value("required", false)};
        methods_[name] = std::move(method);
    }
    for (const auto& [names, why] : supplement.at("retired_but_still_in_spec").items()) {
        // Keys list one or more methods: "files.upload", "rtm.connect / rtm.start", "a, b.*".
        std::string token;
        std::istringstream words(names);
        while (words >> token) {
            while (!token.empty() && (token.back() == ',' || token.back() == ':')) token.pop_back();
            if (token.find('.') != std::string::npos && token != "/") retired_[token] = why.get<std::string>();
        }
    }
}

std::string SlackDouble::apiUrl() const { return server_->url() + "/api/"; }

std::string SlackDouble::addFile(const std::string& name, const std::string& bytes) {
    std::lock_guard lock(mutex_);
    files_["/files-pri/T0DOUBLE1-F" + std::to_string(files_.size() + 1) + "/" + name] = bytes;
    return server_->url() + "/files-pri/T0DOUBLE1-F" + std::to_string(files_.size()) + "/" + name;
}

std::string SlackDouble::addAvatar(const std::string& name, const std::string& bytes) {
    std::lock_guard lock(mutex_);
    avatars_["/avatars/" + name] = bytes;
    return server_->url() + "/avatars/" + name;
}

void SlackDouble::addUser(SlackUser user) {
    std::lock_guard lock(mutex_);
    users_[user.id] = std::move(user);
}

void SlackDouble::addChannel(const std::string& id, const std::string& name) {
    std::lock_guard lock(mutex_);
    channels_[id] = name;
}

void SlackDouble::rateLimit(const std::string& method, int count, int retryAfterSeconds) {
    std::lock_guard lock(mutex_);
    rateLimits_[method] = {count, retryAfterSeconds};
}

void SlackDouble::delayAnswers(const std::string& method, std::chrono::milliseconds delay, int count) {
    std::lock_guard lock(mutex_);
    delays_[method] = {delay, count};
}

void SlackDouble::failNext(const std::string& method, const std::string& error, int count) {
    std::lock_guard lock(mutex_);
    failures_[method] = {error, count};
}

void SlackDouble::serveSocketMode(std::function<std::string()> nextUrl) {
    std::lock_guard lock(mutex_);
    socketUrl_ = std::move(nextUrl);
}

void SlackDouble::revokeToken() {
    std::lock_guard lock(mutex_);
    revoked_ = true;
}

void SlackDouble::addUserToken(SlackUserToken token) {
    std::lock_guard lock(mutex_);
    userTokens_[token.token] = std::move(token);
}

void SlackDouble::revokeUserToken(const std::string& token, const std::string& error) {
    std::lock_guard lock(mutex_);
    revokedUserTokens_[token] = error;
}

std::vector<SlackPost> SlackDouble::posts() const {
    std::lock_guard lock(mutex_);
    return posts_;
}

std::vector<SlackUpload> SlackDouble::uploads() const {
    std::lock_guard lock(mutex_);
    return uploads_;
}

std::vector<SlackReaction> SlackDouble::reactions() const {
    std::lock_guard lock(mutex_);
    return reactions_;
}

std::vector<std::string> SlackDouble::violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
}

std::vector<std::string> SlackDouble::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

int SlackDouble::callCount(const std::string& method) const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& call : calls_) n += call == method;
    return n;
}

std::optional<std::map<std::string, std::string>> SlackDouble::argumentsOf(const HttpRequest& request,
                                                                          std::string& problem) const {
    std::map<std::string, std::string> args;
    auto contentType = request.headers.count("content-type") ? request.headers.at("content-type") : std::string();
    std::string mediaType = contentType.substr(0, contentType.find(';'));
    if (request.method == "GET") {
        args = request.query;
        return args;
    }
    if (mediaType == "application/json") {
        nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object()) {
            problem = "a JSON body that is not an object";
            return std::nullopt;
        }
        for (const auto& [key, value] : body.items()) args[key] = value.is_string() ? value.get<std::string>() : value.dump();
        return args;
    }
    if (mediaType != "application/x-www-form-urlencoded") {
        problem = "Content-Type \"" + contentType + "\" (Slack takes form posts or JSON)";
        return std::nullopt;
    }
    std::string_view rest = request.body;
    while (!rest.empty()) {
        std::string_view pair = rest.substr(0, rest.find('&'));
        rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
        if (pair.empty()) continue;
        std::size_t eq = pair.find('=');
        auto name = formDecode(pair.substr(0, eq));
        auto value = formDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
        if (!name || !value) {
            problem = "a broken percent-escape in the form body";
            return std::nullopt;
        }
        if (args.count(*name)) {
            problem = "the argument \"" + *name + "\" twice";
            return std::nullopt;
        }
        args[*name] = *value;
    }
    return args;
}

std::vector<std::string> SlackDouble::check(const std::string& name, const Method& method,
                                            const std::map<std::string, std::string>& args,
                                            bool tokenFromBody) const {
    std::vector<std::string> problems;
    if (tokenFromBody && method.tokenInHeaderOnly)
        problems.push_back(name + ": the token must be sent in the Authorization header only");
    for (const auto& [arg, value] : args) {
        if (arg == "token") continue;
        auto declared = method.parameters.find(arg);
        if (declared == method.parameters.end()) {
            problems.push_back(name + ": undeclared argument \"" + arg + "\"");
            continue;
        }
        if (!hasType(declared->second.type, value))
            problems.push_back(name + ": argument \"" + arg + "\" is not a " + declared->second.type + ": \"" +
                               value.substr(0, 80) + "\"");
    }
    for (const auto& [arg, parameter] : method.parameters)
        if (parameter.required && !args.count(arg)) problems.push_back(name + ": required argument \"" + arg + "\" missing");
    return problems;
}

HttpResponse SlackDouble::handle(const HttpRequest& request) {
    std::chrono::milliseconds delay{0};
    HttpResponse response = handleLocked(request, delay);
    // Served already (other calls see its effect); only the answer waits, outside the lock.
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    return response;
}

HttpResponse SlackDouble::handleLocked(const HttpRequest& request, std::chrono::milliseconds& delay) {
    constexpr std::string_view kPrefix = "/api/";
    std::string name = request.path.rfind(kPrefix, 0) == 0 ? request.path.substr(kPrefix.size()) : std::string();
    std::lock_guard lock(mutex_);
    if (request.path.rfind("/upload/v1/", 0) == 0) {
        std::string fileId = request.path.substr(11);
        for (auto& upload : uploads_)
            if (upload.fileId == fileId && request.method == "POST") {
                upload.bytes = request.body;
                return HttpResponse{.status = 200, .headers = {}, .body = "OK - " + std::to_string(request.body.size())};
            }
        return HttpResponse{.status = 404, .headers = {}, .body = "no such upload"};
    }
    if (auto file = files_.find(request.path); file != files_.end() && request.method == "GET") {
        auto auth = request.headers.find("authorization");
        bool mayRead = std::find(options_.botScopes.begin(), options_.botScopes.end(), "files:read") !=
                       options_.botScopes.end();
        if (auth == request.headers.end() || auth->second != "Bearer " + options_.botToken || !mayRead || revoked_)
            return HttpResponse{.status = 403, .headers = {}, .body = "forbidden"};
        HttpResponse response;
        response.headers["Content-Type"] = "application/octet-stream";
        response.body = file->second;
        return response;
    }
    if (auto avatar = avatars_.find(request.path); avatar != avatars_.end() && request.method == "GET") {
        HttpResponse response;
        response.headers["Content-Type"] = "image/png";
        response.body = avatar->second;
        return response;
    }
    calls_.push_back(name);
    auto record = [this](std::string problem) { violations_.push_back(std::move(problem)); };

    auto known = methods_.find(name);
    if (known == methods_.end()) {
        record("unknown method \"" + request.path + "\"");
        return HttpResponse::json(404, refusal("unknown_method"));
    }
    if (auto retired = retired_.find(name); retired != retired_.end()) {
        record(name + ": retired method called (" + retired->second.substr(0, 120) + ")");
        return HttpResponse::json(200, refusal("method_deprecated"));
    }
    if (request.method != "POST" && request.method != "GET") {
        record(name + ": HTTP " + request.method);
        return HttpResponse::json(405, refusal("invalid_request"));
    }
    std::string problem;
    auto args = argumentsOf(request, problem);
    if (!args) {
        record(name + ": " + problem);
        return HttpResponse::json(200, refusal("invalid_form_data"));
    }
    std::string token;
    auto auth = request.headers.find("authorization");
    if (auth != request.headers.end() && auth->second.rfind("Bearer ", 0) == 0) token = auth->second.substr(7);
    bool tokenFromBody = args->count("token") > 0;
    if (tokenFromBody && token.empty()) token = args->at("token");
    std::vector<std::string> problems = check(name, known->second, *args, tokenFromBody);
    if (!problems.empty()) {
        for (auto& p : problems) record(std::move(p));
        return HttpResponse::json(200, refusal("invalid_arguments"));
    }

    if (token.empty()) return HttpResponse::json(200, refusal("not_authed"));
    bool appLevel = name == "apps.connections.open";
    auto userToken = userTokens_.find(token);
    Caller caller{.userId = options_.botUserId, .isBot = true, .scopes = options_.botScopes, .listsScopes = true};
    if (appLevel) {
        if (token != options_.appToken)
            return HttpResponse::json(200, refusal(token == options_.botToken || userToken != userTokens_.end()
                                                       ? "not_allowed_token_type" : "invalid_auth"));
    } else if (token == options_.appToken) {
        return HttpResponse::json(200, refusal("not_allowed_token_type"));
    } else if (userToken != userTokens_.end()) {
        const SlackUserToken& user = userToken->second;
        bool desktopClient = user.token.rfind("xoxc-", 0) == 0;
        if (desktopClient && !hasCookie(request, user.cookie)) return HttpResponse::json(200, refusal("invalid_auth"));
        if (auto revoked = revokedUserTokens_.find(token); revoked != revokedUserTokens_.end())
            return HttpResponse::json(200, refusal(revoked->second));
        caller = Caller{.userId = user.userId, .isBot = false, .scopes = user.scopes, .listsScopes = !desktopClient};
    } else if (token != options_.botToken) {
        return HttpResponse::json(200, refusal("invalid_auth"));
    } else if (revoked_) {
        return HttpResponse::json(200, refusal("token_revoked"));
    }
    std::string granted;
    for (const auto& scope : caller.scopes) granted += (granted.empty() ? "" : ",") + scope;
    auto reply = [&granted, &caller](int status, const nlohmann::json& body) {
        HttpResponse response = HttpResponse::json(status, body);
        if (caller.listsScopes) response.headers["x-oauth-scopes"] = granted;
        return response;
    };

    if (auto limit = rateLimits_.find(name); limit != rateLimits_.end() && limit->second.first > 0) {
        --limit->second.first;
        HttpResponse response = reply(429, refusal("ratelimited"));
        response.headers["Retry-After"] = std::to_string(limit->second.second);
        return response;
    }
    if (auto failure = failures_.find(name); failure != failures_.end() && failure->second.second > 0) {
        --failure->second.second;
        return reply(200, refusal(failure->second.first));
    }
    if (auto scope = scopeOf().find(name); scope != scopeOf().end() && caller.listsScopes) {
        bool has = std::find(caller.scopes.begin(), caller.scopes.end(), scope->second) != caller.scopes.end();
        if (!has) return reply(200, {{"ok", false}, {"error", "missing_scope"}, {"needed", scope->second},
                                     {"provided", granted}});
    }
    if (auto wait = delays_.find(name); wait != delays_.end() && wait->second.second > 0) {
        --wait->second.second;
        delay = wait->second.first;
    }
    return reply(200, serve(name, *args, caller));
}

std::string SlackDouble::nextTs() {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%lld.%06d", static_cast<long long>(tsSeconds_), ++tsCounter_);
    return buffer;
}

nlohmann::json SlackDouble::userJson(const SlackUser& user) const {
    return {{"id", user.id},
            {"team_id", options_.teamId},
            {"name", user.name},
            {"deleted", false},
            {"real_name", user.realName},
            {"is_bot", user.isBot},
            {"profile",
             {{"real_name", user.realName}, {"display_name", user.displayName}, {"image_512", user.avatarUrl},
              {"image_72", user.avatarUrl}}}};
}

nlohmann::json SlackDouble::serve(const std::string& method, const std::map<std::string, std::string>& args,
                                  const Caller& caller) {
    auto arg = [&args](const char* key) { return args.count(key) ? args.at(key) : std::string(); };
    if (method == "auth.test") {
        if (!caller.isBot) {
            auto user = users_.find(caller.userId);
            return {{"ok", true}, {"url", "https://double.slack.test/"}, {"team", options_.teamName},
                    {"user", user != users_.end() ? user->second.name : caller.userId}, {"team_id", options_.teamId},
                    {"user_id", caller.userId}, {"is_enterprise_install", false}};
        }
        return {{"ok", true}, {"url", "https://double.slack.test/"}, {"team", options_.teamName},
                {"user", "bridge"}, {"team_id", options_.teamId}, {"user_id", options_.botUserId},
                {"bot_id", options_.botId}, {"is_enterprise_install", false}};
    }
    if (method == "chat.postMessage") {
        if (!channels_.count(arg("channel"))) return refusal("channel_not_found");
        if (arg("text").empty() && arg("blocks").empty() && arg("attachments").empty()) return refusal("no_text");
        SlackPost post{.channel = arg("channel"), .ts = nextTs(), .text = arg("text"), .username = arg("username"),
                       .iconUrl = arg("icon_url"), .threadTs = arg("thread_ts"), .deleted = false,
                       .user = caller.userId};
        posts_.push_back(post);
        nlohmann::json message = {{"type", "message"}, {"text", post.text}, {"user", caller.userId}, {"ts", post.ts}};
        if (caller.isBot) message["bot_id"] = options_.botId;
        if (!post.username.empty()) message["username"] = post.username;
        if (!post.threadTs.empty()) message["thread_ts"] = post.threadTs;
        return {{"ok", true}, {"channel", post.channel}, {"ts", post.ts}, {"message", message}};
    }
    if (method == "chat.meMessage") {
        if (!channels_.count(arg("channel"))) return refusal("channel_not_found");
        if (arg("text").empty()) return refusal("no_text");
        SlackPost post{.channel = arg("channel"), .ts = nextTs(), .text = arg("text"), .username = {}, .iconUrl = {},
                       .threadTs = {}, .deleted = false, .user = caller.userId, .me = true};
        posts_.push_back(post);
        return {{"ok", true}, {"channel", post.channel}, {"ts", post.ts}};
    }
    if (method == "chat.update" || method == "chat.delete") {
        for (auto& post : posts_) {
            if (post.channel != arg("channel") || post.ts != arg("ts") || post.deleted) continue;
            // Only one's own messages (a workspace admin's user token aside, which the double has not).
            if (post.user != caller.userId)
                return refusal(method == "chat.delete" ? "cant_delete_message" : "cant_update_message");
            if (method == "chat.delete") post.deleted = true;
            else post.text = arg("text");
            return {{"ok", true}, {"channel", post.channel}, {"ts", post.ts}};
        }
        return refusal("message_not_found");
    }
    if (method == "reactions.add" || method == "reactions.remove") {
        if (!channels_.count(arg("channel"))) return refusal("channel_not_found");
        SlackReaction reaction{.channel = arg("channel"), .ts = arg("timestamp"), .user = caller.userId, .name = arg("name")};
        auto existing = std::find(reactions_.begin(), reactions_.end(), reaction);
        if (method == "reactions.add") {
            if (existing != reactions_.end()) return refusal("already_reacted");
            reactions_.push_back(std::move(reaction));
        } else {
            if (existing == reactions_.end()) return refusal("no_reaction");
            reactions_.erase(existing);
        }
        return {{"ok", true}};
    }
    if (method == "files.getUploadURLExternal") {
        SlackUpload upload{.fileId = "F0UPLOAD" + std::to_string(uploads_.size() + 1), .filename = arg("filename"),
                           .bytes = {}, .channel = {}, .initialComment = {}, .completed = false,
                           .user = caller.userId};
        uploads_.push_back(upload);
        return {{"ok", true}, {"upload_url", server_->url() + "/upload/v1/" + upload.fileId}, {"file_id", upload.fileId}};
    }
    if (method == "files.completeUploadExternal") {
        nlohmann::json files = nlohmann::json::parse(arg("files"), nullptr, false);
        if (!files.is_array() || files.empty()) return refusal("invalid_arguments");
        nlohmann::json out = nlohmann::json::array();
        for (const auto& entry : files) {
            std::string id = entry.is_object() ? entry.value("id", "") : "";
            auto upload = std::find_if(uploads_.begin(), uploads_.end(), [&](const SlackUpload& u) { return u.fileId == id; });
            // Only the token that asked for the upload URL can complete it.
            if (upload == uploads_.end() || upload->bytes.empty() || upload->user != caller.userId)
                return refusal("file_not_found");
            upload->channel = arg("channel_id");
            upload->initialComment = arg("initial_comment");
            upload->completed = true;
            out.push_back({{"id", id}, {"title", entry.value("title", upload->filename)}});
        }
        return {{"ok", true}, {"files", out}};
    }
    if (method == "apps.connections.open") {
        if (!socketUrl_) return refusal("socket_mode_not_enabled");
        return {{"ok", true}, {"url", socketUrl_()}};
    }
    if (method == "users.info") {
        auto user = users_.find(arg("user"));
        if (user == users_.end()) return refusal("user_not_found");
        return {{"ok", true}, {"user", userJson(user->second)}};
    }
    if (method == "conversations.info") {
        auto channel = channels_.find(arg("channel"));
        if (channel == channels_.end()) return refusal("channel_not_found");
        return {{"ok", true},
                {"channel", {{"id", channel->first}, {"name", channel->second}, {"is_channel", true},
                             {"is_private", false}, {"is_archived", false}, {"is_member", true}}}};
    }
    violations_.push_back(method + ": valid, but the Slack double does not serve it");
    return refusal("not_served_by_double");
}

}  // namespace mxbridge::test
