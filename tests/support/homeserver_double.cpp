// HomeserverDouble (see homeserver_double.h): spec-checked routing, in-memory Matrix state,
// and the transaction pusher.
#include "homeserver_double.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "event_schemas.h"

namespace mxbridge::test {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

long long nowMs() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

struct RoomRecord {
    std::string id;
    std::vector<json> timeline;
    std::map<std::pair<std::string, std::string>, json> state;  // (type, state_key) → event
    std::set<std::string> typing;
};

struct HomeserverDouble::State {
    mutable std::mutex mutex;
    std::condition_variable cv;
    std::regex userNamespace;
    std::optional<std::regex> aliasNamespace;
    std::string asUrl;
    std::mt19937_64 rng{std::random_device{}()};

    std::map<std::string, Profile> users;
    std::map<std::string, std::string> userTokens;  // access token → user id
    std::map<std::string, RoomRecord> rooms;
    std::map<std::string, std::string> aliases;    // alias → room id
    std::map<std::string, std::string> txnEvents;  // token|user|txnId → event id
    std::map<std::string, json> presence;
    std::vector<json> receipts;
    std::map<std::string, std::pair<std::string, std::string>> media;  // mxc → (type, bytes)
    std::map<std::string, std::string> mediaNames;                      // mxc → upload filename

    std::vector<RecordedRequest> requests;
    std::vector<std::string> violations;
    std::vector<std::string> unimplemented;

    std::deque<json> queue;
    std::deque<json> rawTransactions;
    std::optional<std::pair<std::string, json>> inFlight;
    std::size_t inFlightEvents = 0;
    std::vector<PushAttempt> attempts;
    std::vector<PushAttempt> delivered;
    long nextTxn = 1;
    bool paused = false;
    bool stop = false;

    int rateLimitCount = 0;
    int rateLimitMs = 0;
    int failCount = 0;
    int failStatus = 500;
    milliseconds latency{0};
    std::map<std::string, milliseconds> operationLatency;
    std::map<std::string, milliseconds> answerDelay;  // per operation, after it took effect
    std::thread pusher;
    std::thread downTimer;
    bool downTimerCancel = false;

    std::string random(std::size_t n) {
        static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        std::string out;
        for (std::size_t i = 0; i < n; ++i) out += kAlphabet[rng() % 64];
        return out;
    }
};

namespace {

// Everything a handler needs about one request; handlers run with the state lock held.
struct Ctx {
    const HttpRequest& req;
    const Operation& op;
    StringMap params;
    json body;
    std::string token;
    std::string userId;
    bool asAuth = false;
    std::unique_lock<std::mutex>& lock;
};

HttpResponse err(int status, const std::string& code, const std::string& msg) {
    return HttpResponse::error(status, code, msg);
}

}  // namespace

// Matrix rules over the shared state; callers hold the state lock.
class HomeserverLogic {
public:
    HomeserverLogic(const HomeserverConfig& c, HomeserverDouble::State& s) : cfg(c), st(s) {}
    const HomeserverConfig& cfg;
    HomeserverDouble::State& st;

    std::string bot() const { return "@" + cfg.senderLocalpart + ":" + cfg.serverName; }
    bool inNamespace(const std::string& userId) const {
        return userId == bot() || std::regex_match(userId, st.userNamespace);
    }

    RoomRecord* room(const std::string& id) {
        auto it = st.rooms.find(id);
        return it == st.rooms.end() ? nullptr : &it->second;
    }
    const json* stateEvent(const RoomRecord& r, const std::string& type, const std::string& key) const {
        auto it = r.state.find({type, key});
        return it == r.state.end() ? nullptr : &it->second;
    }
    std::string membership(const RoomRecord& r, const std::string& user) const {
        const json* ev = stateEvent(r, "m.room.member", user);
        return ev ? (*ev)["content"].value("membership", "") : "";
    }
    int userLevel(const RoomRecord& r, const std::string& user) const {
        const json* pl = stateEvent(r, "m.room.power_levels", "");
        if (!pl) {
            const json* create = stateEvent(r, "m.room.create", "");
            return create && (*create)["sender"] == user ? 100 : 0;
        }
        const json& c = (*pl)["content"];
        if (c.contains("users") && c["users"].contains(user)) return c["users"][user].get<int>();
        return c.value("users_default", 0);
    }
    int eventLevel(const RoomRecord& r, const std::string& type, bool isState) const {
        const json* pl = stateEvent(r, "m.room.power_levels", "");
        if (!pl) return 0;
        const json& c = (*pl)["content"];
        if (c.contains("events") && c["events"].contains(type)) return c["events"][type].get<int>();
        return isState ? c.value("state_default", 50) : c.value("events_default", 0);
    }
    int actionLevel(const RoomRecord& r, const std::string& action) const {
        const json* pl = stateEvent(r, "m.room.power_levels", "");
        const int fallback = action == "invite" ? 0 : 50;
        return pl ? (*pl)["content"].value(action, fallback) : fallback;
    }

    bool interested(const RoomRecord& r, const json& event) const {
        if (event.value("type", "") == "m.room.member" && event.contains("state_key") &&
            inNamespace(event["state_key"].get<std::string>())) {
            return true;
        }
        for (const auto& [key, ev] : r.state) {
            if (key.first != "m.room.member") continue;
            const std::string m = ev["content"].value("membership", "");
            if ((m == "join" || m == "invite") && inNamespace(key.second)) return true;
        }
        return false;
    }

    // Completes, stores and (if the appservice cares) queues an event; returns its id.
    std::string append(RoomRecord& r, json event) {
        if (!event.contains("event_id")) event["event_id"] = "$" + st.random(43);
        if (!event.contains("origin_server_ts")) event["origin_server_ts"] = nowMs();
        event["room_id"] = r.id;
        if (!event.contains("unsigned")) event["unsigned"] = json{{"age", 0}};
        if (!event.contains("content")) event["content"] = json::object();
        r.timeline.push_back(event);
        if (event.contains("state_key")) r.state[{event["type"], event["state_key"]}] = event;
        if (interested(r, event)) {
            st.queue.push_back(event);
            st.cv.notify_all();
        }
        return event["event_id"];
    }

    std::string emit(RoomRecord& r, const std::string& sender, const std::string& type, json content,
                     std::optional<std::string> stateKey = std::nullopt, std::optional<long long> ts = std::nullopt) {
        json ev{{"type", type}, {"sender", sender}, {"content", std::move(content)}};
        if (stateKey) ev["state_key"] = *stateKey;
        if (ts) ev["origin_server_ts"] = *ts;
        return append(r, std::move(ev));
    }

    std::string setMembership(RoomRecord& r, const std::string& sender, const std::string& target,
                              const std::string& membership, const json& extra = json::object()) {
        json content{{"membership", membership}};
        if (membership == "join" || membership == "invite") {
            auto it = st.users.find(target);
            if (it != st.users.end()) {
                if (it->second.displayname) content["displayname"] = *it->second.displayname;
                if (it->second.avatarUrl) content["avatar_url"] = *it->second.avatarUrl;
            }
        }
        for (const auto& [k, v] : extra.items()) content[k] = v;
        if (membership != "join") r.typing.erase(target);
        return emit(r, sender, "m.room.member", content, target);
    }

    std::string createRoom(const std::string& creator, const json& body, std::string* aliasError) {
        RoomRecord r;
        r.id = "!" + st.random(18) + ":" + cfg.serverName;
        std::optional<std::string> alias;
        if (body.contains("room_alias_name")) {
            alias = "#" + body["room_alias_name"].get<std::string>() + ":" + cfg.serverName;
            if (st.aliases.count(*alias)) {
                if (aliasError) *aliasError = *alias;
                return "";
            }
        }
        auto& room = st.rooms.emplace(r.id, std::move(r)).first->second;
        json create = body.value("creation_content", json::object());
        create["creator"] = creator;
        create["room_version"] = body.value("room_version", "10");
        emit(room, creator, "m.room.create", create, "");
        setMembership(room, creator, creator, "join");
        const std::string preset = body.value(
            "preset", body.value("visibility", "private") == "public" ? "public_chat" : "private_chat");
        json pl{{"users", {{creator, 100}}}, {"users_default", 0},  {"events", json::object()},
                {"events_default", 0},        {"state_default", 50}, {"ban", 50},
                {"kick", 50},                 {"redact", 50},        {"invite", 0}};
        if (preset == "trusted_private_chat" && body.contains("invite")) {
            for (const auto& u : body["invite"]) pl["users"][u.get<std::string>()] = 100;
        }
        if (body.contains("power_level_content_override")) {
            for (const auto& [k, v] : body["power_level_content_override"].items()) pl[k] = v;
        }
        emit(room, creator, "m.room.power_levels", pl, "");
        if (alias) {
            st.aliases[*alias] = room.id;
            emit(room, creator, "m.room.canonical_alias", json{{"alias", *alias}}, "");
        }
        emit(room, creator, "m.room.join_rules", json{{"join_rule", preset == "public_chat" ? "public" : "invite"}}, "");
        emit(room, creator, "m.room.history_visibility", json{{"history_visibility", "shared"}}, "");
        if (body.contains("initial_state")) {
            for (const auto& ev : body["initial_state"]) {
                emit(room, creator, ev["type"], ev.value("content", json::object()), ev.value("state_key", ""));
            }
        }
        if (body.contains("name")) emit(room, creator, "m.room.name", json{{"name", body["name"]}}, "");
        if (body.contains("topic")) emit(room, creator, "m.room.topic", json{{"topic", body["topic"]}}, "");
        if (body.contains("invite")) {
            json extra = body.value("is_direct", false) ? json{{"is_direct", true}} : json::object();
            for (const auto& u : body["invite"]) setMembership(room, creator, u.get<std::string>(), "invite", extra);
        }
        return room.id;
    }
};

// ---------------------------------------------------------------------------------------

HomeserverDouble::HomeserverDouble(HomeserverConfig config)
    : config_(std::move(config)), state_(std::make_unique<State>()) {
    SpecCatalog::shared();
    EventSchemas::shared();
    state_->userNamespace = std::regex(config_.userNamespaceRegex, std::regex::ECMAScript);
    if (!config_.aliasNamespaceRegex.empty()) state_->aliasNamespace = std::regex(config_.aliasNamespaceRegex);
    state_->asUrl = config_.appserviceUrl;
    state_->users[botUserId()] = Profile{};
    server_ = std::make_unique<TestHttpServer>([this](const HttpRequest& r) { return handle(r); }, config_.port);
    state_->pusher = std::thread([this] { pusherLoop(); });
}

HomeserverDouble::~HomeserverDouble() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stop = true;
        state_->downTimerCancel = true;
    }
    state_->cv.notify_all();
    if (state_->downTimer.joinable()) state_->downTimer.join();
    state_->pusher.join();
    server_.reset();
}

std::string HomeserverDouble::url() const { return server_->url(); }
std::uint16_t HomeserverDouble::port() const { return server_->port(); }
std::string HomeserverDouble::botUserId() const { return "@" + config_.senderLocalpart + ":" + config_.serverName; }

void HomeserverDouble::setAppserviceUrl(const std::string& url) {
    std::lock_guard lock(state_->mutex);
    state_->asUrl = url;
    state_->cv.notify_all();
}

// --- Request handling ------------------------------------------------------------------

HttpResponse HomeserverDouble::handle(const HttpRequest& req) {
    milliseconds latency;
    milliseconds answerDelay{0};
    {
        std::lock_guard lock(state_->mutex);
        latency = state_->latency;
        if (!state_->operationLatency.empty() || !state_->answerDelay.empty()) {
            for (const Operation* op : SpecCatalog::shared().findOperations(req.method, req.path)) {
                auto it = state_->operationLatency.find(op->operationId);
                if (it != state_->operationLatency.end()) latency += it->second;
                auto delayed = state_->answerDelay.find(op->operationId);
                if (delayed != state_->answerDelay.end()) answerDelay += delayed->second;
            }
        }
    }
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    HttpResponse res = handleNow(req);
    // As on a real homeserver, what the request did (an event pushed to the appservice) may
    // be seen by others before its answer reaches the caller.
    if (answerDelay.count() > 0) std::this_thread::sleep_for(answerDelay);
    return res;
}

HttpResponse HomeserverDouble::handleNow(const HttpRequest& req) {
    std::unique_lock lock(state_->mutex);
    const auto& catalog = SpecCatalog::shared();
    RecordedRequest rec{req.method, req.target, req.path, req.query, nullptr, "", "", 0, nullptr};
    auto finish = [&](HttpResponse res) {
        rec.status = res.status;
        if (res.headers.count("Content-Type") && res.headers["Content-Type"] == "application/json") {
            rec.response = json::parse(res.body, nullptr, false);
        }
        // Our own answers must conform too; a mismatch is a bug in this double.
        if (const Operation* answered = catalog.operationById(rec.operationId); answered && !rec.response.is_null() &&
                                                                        answered->responseSchemas.count(std::to_string(res.status))) {
            for (const auto& p : catalog.validateResponse(*answered, res.status, rec.response)) {
                std::fprintf(stderr, "HomeserverDouble: own answer off-spec: %s\n", p.c_str());
            }
        }
        state_->requests.push_back(rec);
        return res;
    };
    auto violation = [&](const std::string& what) {
        state_->violations.push_back(req.method + " " + req.target + ": " + what);
    };

    if (state_->rateLimitCount > 0) {
        --state_->rateLimitCount;
        json body{{"errcode", "M_LIMIT_EXCEEDED"}, {"error", "Too many requests (HomeserverDouble::rateLimitNext)"},
                  {"retry_after_ms", state_->rateLimitMs}};
        auto res = HttpResponse::json(429, body);
        res.headers["Retry-After"] = std::to_string((state_->rateLimitMs + 999) / 1000);
        return finish(res);
    }
    if (state_->failCount > 0) {
        --state_->failCount;
        return finish(err(state_->failStatus, "M_UNKNOWN", "Injected failure (HomeserverDouble::failNext)"));
    }

    const auto ops = catalog.findOperations(req.method, req.path);
    if (ops.empty()) {
        auto problems = catalog.validateRequest(req.method, req.path, req.query, req.headers, std::nullopt);
        violation(problems.empty() ? "unknown operation" : problems.front());
        const bool otherMethod = !problems.empty() && startsWith(problems.front(), "no " + req.method + " operation");
        return finish(otherMethod ? err(405, "M_UNRECOGNIZED", "Unrecognized request: wrong method")
                                  : err(404, "M_UNRECOGNIZED", "Unrecognized request"));
    }

    std::optional<json> body;
    const bool takesJson = std::any_of(ops.begin(), ops.end(), [](const Operation* o) { return o->requestBodySchema.has_value(); });
    if (takesJson && !req.body.empty()) {
        json parsed = json::parse(req.body, nullptr, false);
        if (parsed.is_discarded()) {
            violation("body is not valid JSON");
            return finish(err(400, "M_NOT_JSON", "Content not JSON."));
        }
        body = parsed;
        rec.body = parsed;
    }

    const Operation* op = nullptr;
    std::vector<std::string> problems;
    for (const Operation* candidate : ops) {
        auto p = catalog.validateAgainst(*candidate, req.path, req.query, req.headers, body);
        if (p.empty()) { op = candidate; break; }
        if (problems.empty()) problems = p;
    }
    rec.operationId = (op ? op : ops.front())->operationId;
    if (!op) {
        for (const auto& p : problems) violation(rec.operationId + ": " + p);
        const bool onlyToken = std::all_of(problems.begin(), problems.end(),
                                           [](const std::string& p) { return startsWith(p, "missing access token"); });
        if (onlyToken) return finish(err(401, "M_MISSING_TOKEN", "Missing access token"));
        return finish(err(400, "M_BAD_JSON", problems.front()));
    }

    Ctx ctx{req, *op, *catalog.matchPath(*op, req.path), body.value_or(json::object()), "", "", false, lock};
    if (auto auth = req.headers.find("authorization"); auth != req.headers.end() && startsWith(auth->second, "Bearer ")) {
        ctx.token = auth->second.substr(7);
    } else if (auto q = req.query.find("access_token"); q != req.query.end()) {
        ctx.token = q->second;
    }

    HomeserverLogic logic(config_, *state_);
    // Identity: as_token (+ ?user_id= assertion) or a token issued by /register.
    auto authenticate = [&]() -> std::optional<HttpResponse> {
        if (ctx.token.empty()) return err(401, "M_MISSING_TOKEN", "Missing access token");
        if (ctx.token == config_.asToken) {
            ctx.asAuth = true;
            ctx.userId = logic.bot();
            if (auto u = req.query.find("user_id"); u != req.query.end()) {
                if (!logic.inNamespace(u->second)) {
                    return err(403, "M_FORBIDDEN", "Application service cannot masquerade as this user (" + u->second + ").");
                }
                if (!state_->users.count(u->second)) {
                    return err(403, "M_FORBIDDEN", "Application service has not registered this user (" + u->second + ")");
                }
                ctx.userId = u->second;
            }
            return std::nullopt;
        }
        auto it = state_->userTokens.find(ctx.token);
        if (it == state_->userTokens.end()) return err(401, "M_UNKNOWN_TOKEN", "Unrecognised access token.");
        ctx.userId = it->second;
        return std::nullopt;
    };
    if (op->authRequired) {
        if (auto failure = authenticate()) return finish(*failure);
        rec.userId = ctx.userId;
    }

    const std::string& id = op->operationId;
    const std::string server = config_.serverName;
    auto roomOr404 = [&](const std::string& roomId) { return logic.room(roomId); };
    auto eventSchemaCheck = [&](const json& event) {
        for (const auto& p : EventSchemas::shared().validateEvent(event)) violation("event schema: " + p);
    };

    if (config_.legacyPaths && (id == "pingAppservice" || startsWith(op->path, "/_matrix/client/v1/media/"))) {
        return finish(err(404, "M_UNRECOGNIZED", "Unrecognized request (legacy homeserver)"));
    }

    // --- Server and account --------------------------------------------------------------
    if (id == "getVersions") {
        return finish(HttpResponse::json(200, json{{"versions", config_.versions}, {"unstable_features", json::object()}}));
    }
    if (id == "getCapabilities") {
        return finish(HttpResponse::json(200, json{{"capabilities", json::object()}}));
    }
    if (id == "getTokenOwner") {
        return finish(HttpResponse::json(200, json{{"user_id", ctx.userId}, {"is_guest", false}}));
    }
    if (id == "register") {
        if (ctx.body.value("type", "") != "m.login.application_service") {
            return finish(err(403, "M_FORBIDDEN", "Registration has been disabled (only appservice registration)"));
        }
        if (ctx.token.empty()) return finish(err(401, "M_MISSING_TOKEN", "Missing access token"));
        if (ctx.token != config_.asToken) return finish(err(401, "M_UNKNOWN_TOKEN", "Unrecognised access token."));
        const std::string localpart = ctx.body.value("username", "");
        static const std::regex kLocalpart("^[a-z0-9._=/+-]+$");
        if (localpart.empty() || !std::regex_match(localpart, kLocalpart)) {
            return finish(err(400, "M_INVALID_USERNAME", "User ID can only contain characters a-z, 0-9, or '=_-./+'"));
        }
        const std::string userId = "@" + localpart + ":" + server;
        if (!logic.inNamespace(userId)) {
            return finish(err(400, "M_EXCLUSIVE", "This user ID is not in the application service's namespace"));
        }
        if (state_->users.count(userId) && userId != logic.bot()) {
            return finish(err(400, "M_USER_IN_USE", "User ID already taken."));
        }
        if (userId == logic.bot()) return finish(err(400, "M_USER_IN_USE", "User ID already taken."));
        state_->users[userId] = Profile{localpart, std::nullopt};
        rec.userId = userId;
        json out{{"user_id", userId}};
        if (!ctx.body.value("inhibit_login", false)) {
            const std::string token = "syt_" + state_->random(24);
            state_->userTokens[token] = userId;
            out["access_token"] = token;
            out["device_id"] = ctx.body.value("device_id", state_->random(10));
        }
        return finish(HttpResponse::json(200, out));
    }
    if (id == "pingAppservice") {
        if (!ctx.asAuth) return finish(err(403, "M_FORBIDDEN", "Provided access token is not the appservice's as_token"));
        if (ctx.params["appserviceId"] != config_.appserviceId) {
            return finish(err(403, "M_FORBIDDEN", "Provided access token is not the appservice's as_token"));
        }
        const std::string asUrl = state_->asUrl;
        if (asUrl.empty()) return finish(err(400, "M_URL_NOT_SET", "Application service doesn't have a URL configured"));
        json pingBody = json::object();
        if (ctx.body.contains("transaction_id")) pingBody["transaction_id"] = ctx.body["transaction_id"];
        lock.unlock();
        const auto started = Clock::now();
        auto res = httpCall(asUrl, "POST", "/_matrix/app/v1/ping", {{"Authorization", "Bearer " + config_.hsToken}},
                            pingBody.dump(), config_.appserviceTimeout);
        const auto duration = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
        lock.lock();
        if (res.timedOut) return finish(err(504, "M_CONNECTION_TIMEOUT", "Connection to application service timed out"));
        if (!res.connected || res.status == 0) {
            return finish(HttpResponse::json(502, json{{"errcode", "M_CONNECTION_FAILED"}, {"error", "Ping failed: " + res.error}}));
        }
        if (res.status < 200 || res.status >= 300) {
            return finish(HttpResponse::json(502, json{{"errcode", "M_BAD_STATUS"},
                                                      {"error", "Ping returned status " + std::to_string(res.status)},
                                                      {"status", res.status}, {"body", res.body}}));
        }
        return finish(HttpResponse::json(200, json{{"duration_ms", duration}}));
    }

    // --- Aliases ----------------------------------------------------------------------------
    // Resolves an alias, asking the appservice first when it is in its namespace and unknown.
    auto resolveAlias = [&](const std::string& alias) -> std::optional<std::string> {
        if (!state_->aliases.count(alias) && state_->aliasNamespace && std::regex_match(alias, *state_->aliasNamespace) &&
            !state_->asUrl.empty()) {
            const std::string asUrl = state_->asUrl;
            const std::string target = config_.legacyPaths
                                           ? "/rooms/" + percentEncode(alias) + "?access_token=" + config_.hsToken
                                           : "/_matrix/app/v1/rooms/" + percentEncode(alias);
            StringMap headers;
            if (!config_.legacyPaths) headers["Authorization"] = "Bearer " + config_.hsToken;
            lock.unlock();
            httpCall(asUrl, "GET", target, headers, "", config_.appserviceTimeout);
            lock.lock();
        }
        auto it = state_->aliases.find(alias);
        if (it == state_->aliases.end()) return std::nullopt;
        return it->second;
    };
    if (id == "getRoomIdByAlias") {
        auto roomId = resolveAlias(ctx.params["roomAlias"]);
        if (!roomId) return finish(err(404, "M_NOT_FOUND", "Room alias " + ctx.params["roomAlias"] + " not found"));
        return finish(HttpResponse::json(200, json{{"room_id", *roomId}, {"servers", json::array({server})}}));
    }
    if (id == "setRoomAlias") {
        const std::string alias = ctx.params["roomAlias"];
        if (state_->aliases.count(alias)) return finish(err(409, "M_UNKNOWN", "Room alias " + alias + " already exists"));
        if (!logic.room(ctx.body["room_id"])) return finish(err(404, "M_NOT_FOUND", "Unknown room"));
        state_->aliases[alias] = ctx.body["room_id"];
        return finish(HttpResponse::json(200, json::object()));
    }
    if (id == "deleteRoomAlias") {
        if (!state_->aliases.erase(ctx.params["roomAlias"])) return finish(err(404, "M_NOT_FOUND", "Room alias not found"));
        return finish(HttpResponse::json(200, json::object()));
    }

    // --- Rooms and membership ------------------------------------------------------------------
    if (id == "createRoom") {
        std::string aliasInUse;
        const std::string roomId = logic.createRoom(ctx.userId, ctx.body, &aliasInUse);
        if (roomId.empty()) return finish(err(400, "M_ROOM_IN_USE", "Room alias " + aliasInUse + " already taken"));
        return finish(HttpResponse::json(200, json{{"room_id", roomId}}));
    }
    if (id == "joinRoom" || id == "joinRoomById") {
        std::string target = id == "joinRoom" ? ctx.params["roomIdOrAlias"] : ctx.params["roomId"];
        if (startsWith(target, "#")) {
            auto roomId = resolveAlias(target);
            if (!roomId) return finish(err(404, "M_NOT_FOUND", "Room alias " + target + " not found"));
            target = *roomId;
        }
        RoomRecord* r = roomOr404(target);
        if (!r) return finish(err(404, "M_NOT_FOUND", "Unknown room " + target));
        const std::string m = logic.membership(*r, ctx.userId);
        if (m == "ban") return finish(err(403, "M_FORBIDDEN", "You are banned from this room"));
        if (m != "join") {
            const json* rules = logic.stateEvent(*r, "m.room.join_rules", "");
            const bool isPublic = rules && (*rules)["content"].value("join_rule", "") == "public";
            if (m != "invite" && !isPublic) return finish(err(403, "M_FORBIDDEN", "You are not invited to this room."));
            logic.setMembership(*r, ctx.userId, ctx.userId, "join");
        }
        return finish(HttpResponse::json(200, json{{"room_id", r->id}}));
    }

    // Everything below acts in an existing room given by {roomId}.
    RoomRecord* r = ctx.params.count("roomId") ? roomOr404(ctx.params["roomId"]) : nullptr;
    if (ctx.params.count("roomId") && !r) {
        return finish(err(404, "M_NOT_FOUND", "Unknown room " + ctx.params["roomId"]));
    }
    auto requireJoined = [&]() -> std::optional<HttpResponse> {
        if (logic.membership(*r, ctx.userId) != "join") {
            return err(403, "M_FORBIDDEN", "User " + ctx.userId + " not in room " + r->id);
        }
        return std::nullopt;
    };
    auto requireLevel = [&](int needed, const std::string& what) -> std::optional<HttpResponse> {
        if (logic.userLevel(*r, ctx.userId) < needed) {
            return err(403, "M_FORBIDDEN", "User " + ctx.userId + " lacks power level " + std::to_string(needed) + " to " + what);
        }
        return std::nullopt;
    };

    if (id == "inviteUser") {
        if (auto e = requireJoined()) return finish(*e);
        if (auto e = requireLevel(logic.actionLevel(*r, "invite"), "invite")) return finish(*e);
        const std::string target = ctx.body["user_id"];
        const std::string m = logic.membership(*r, target);
        if (m == "ban") return finish(err(403, "M_FORBIDDEN", target + " is banned from the room"));
        if (m == "join") return finish(err(403, "M_FORBIDDEN", target + " is already in the room."));
        json extra = ctx.body.contains("reason") ? json{{"reason", ctx.body["reason"]}} : json::object();
        logic.setMembership(*r, ctx.userId, target, "invite", extra);
        return finish(HttpResponse::json(200, json::object()));
    }
    if (id == "leaveRoom") {
        const std::string m = logic.membership(*r, ctx.userId);
        if (m != "join" && m != "invite") return finish(err(403, "M_FORBIDDEN", "User " + ctx.userId + " not in room"));
        json extra = ctx.body.contains("reason") ? json{{"reason", ctx.body["reason"]}} : json::object();
        logic.setMembership(*r, ctx.userId, ctx.userId, "leave", extra);
        return finish(HttpResponse::json(200, json::object()));
    }
    if (id == "kick" || id == "ban" || id == "unban") {
        if (auto e = requireJoined()) return finish(*e);
        if (auto e = requireLevel(logic.actionLevel(*r, id == "kick" ? "kick" : "ban"), id)) return finish(*e);
        const std::string target = ctx.body["user_id"];
        const std::string m = logic.membership(*r, target);
        if (id == "kick" && m != "join" && m != "invite") return finish(err(403, "M_FORBIDDEN", target + " is not in the room"));
        if (id == "unban" && m != "ban") return finish(err(403, "M_FORBIDDEN", target + " is not banned"));
        if (id != "unban" && logic.userLevel(*r, target) >= logic.userLevel(*r, ctx.userId) && target != ctx.userId) {
            return finish(err(403, "M_FORBIDDEN", "Cannot " + id + " a user with an equal or higher power level"));
        }
        json extra = ctx.body.contains("reason") ? json{{"reason", ctx.body["reason"]}} : json::object();
        logic.setMembership(*r, ctx.userId, target, id == "ban" ? "ban" : "leave", extra);
        return finish(HttpResponse::json(200, json::object()));
    }

    // --- Events --------------------------------------------------------------------------------
    std::optional<long long> ts;
    if (ctx.asAuth && req.query.count("ts")) ts = std::stoll(req.query.at("ts"));
    const std::string txnKey = ctx.token + "|" + ctx.userId + "|" + (ctx.params.count("txnId") ? ctx.params["txnId"] : "");
    if (id == "sendMessage" || id == "redactEvent") {
        if (auto it = state_->txnEvents.find(txnKey); it != state_->txnEvents.end()) {
            return finish(HttpResponse::json(200, json{{"event_id", it->second}}));
        }
        if (auto e = requireJoined()) return finish(*e);
        std::string eventId;
        if (id == "sendMessage") {
            const std::string type = ctx.params["eventType"];
            if (auto e = requireLevel(logic.eventLevel(*r, type, false), "send " + type)) return finish(*e);
            json ev{{"type", type}, {"sender", ctx.userId}, {"content", ctx.body}};
            if (ts) ev["origin_server_ts"] = *ts;
            eventId = logic.append(*r, ev);
            eventSchemaCheck(r->timeline.back());
        } else {
            const std::string targetId = ctx.params["eventId"];
            auto target = std::find_if(r->timeline.begin(), r->timeline.end(),
                                       [&](const json& e) { return e["event_id"] == targetId; });
            if (target == r->timeline.end()) return finish(err(404, "M_NOT_FOUND", "Event not found"));
            if ((*target)["sender"] != ctx.userId) {
                if (auto e = requireLevel(logic.actionLevel(*r, "redact"), "redact")) return finish(*e);
            }
            json content{{"redacts", targetId}};
            if (ctx.body.contains("reason")) content["reason"] = ctx.body["reason"];
            json ev{{"type", "m.room.redaction"}, {"sender", ctx.userId}, {"redacts", targetId}, {"content", content}};
            // Find the target again: append() may reallocate the timeline.
            const std::size_t index = static_cast<std::size_t>(target - r->timeline.begin());
            eventId = logic.append(*r, ev);
            json& redacted = r->timeline[index];
            redacted["content"] = json::object();
            redacted["unsigned"]["redacted_because"] = r->timeline.back();
        }
        state_->txnEvents[txnKey] = eventId;
        return finish(HttpResponse::json(200, json{{"event_id", eventId}}));
    }
    if (id == "setRoomStateWithKey") {
        if (auto e = requireJoined()) return finish(*e);
        const std::string type = ctx.params["eventType"];
        const std::string key = ctx.params["stateKey"];
        if (auto e = requireLevel(logic.eventLevel(*r, type, true), "set " + type)) return finish(*e);
        if (const json* current = logic.stateEvent(*r, type, key); current && (*current)["content"] == ctx.body &&
                                                                   (*current)["sender"] == ctx.userId) {
            return finish(HttpResponse::json(200, json{{"event_id", (*current)["event_id"]}}));
        }
        if (type == "m.room.canonical_alias" && ctx.body.contains("alias") &&
            state_->aliases.count(ctx.body["alias"].get<std::string>()) == 0) {
            return finish(err(400, "M_BAD_ALIAS", "Alias does not point to this room"));
        }
        json ev{{"type", type}, {"sender", ctx.userId}, {"state_key", key}, {"content", ctx.body}};
        if (ts) ev["origin_server_ts"] = *ts;
        const std::string eventId = logic.append(*r, ev);
        eventSchemaCheck(r->timeline.back());
        return finish(HttpResponse::json(200, json{{"event_id", eventId}}));
    }
    if (id == "getRoomEvents") {
        // Backwards from the end of the timeline (or a "t<index>" token), as far as the room's
        // history visibility lets this user read: "joined" and "invited" hide what came before
        // they last joined (or were invited), "shared" and "world_readable" hide nothing.
        if (auto e = requireJoined()) return finish(*e);
        if (req.query.count("dir") && req.query.at("dir") != "b")
            return finish(err(400, "M_INVALID_PARAM", "HomeserverDouble pages backwards only"));
        std::size_t limit = req.query.count("limit") ? std::stoul(req.query.at("limit")) : 10;
        std::size_t end = r->timeline.size();
        if (req.query.count("from") && startsWith(req.query.at("from"), "t"))
            end = std::min(end, static_cast<std::size_t>(std::stoul(req.query.at("from").substr(1))));
        const json* rule = logic.stateEvent(*r, "m.room.history_visibility", "");
        const std::string visibility = rule ? (*rule)["content"].value("history_visibility", "shared") : "shared";
        std::size_t first = 0;
        if (visibility == "joined" || visibility == "invited") {
            for (std::size_t i = 0; i < r->timeline.size(); ++i) {
                const json& ev = r->timeline[i];
                if (ev.value("type", "") != "m.room.member" || ev.value("state_key", "") != ctx.userId) continue;
                const std::string m = ev["content"].value("membership", "");
                if (m == "join" || (visibility == "invited" && m == "invite")) first = i;
            }
        }
        json chunk = json::array();
        std::size_t i = end;
        while (i > first && chunk.size() < limit) chunk.push_back(r->timeline[--i]);
        json page{{"start", "t" + std::to_string(end)}, {"chunk", chunk}};
        if (i > first) page["end"] = "t" + std::to_string(i);
        return finish(HttpResponse::json(200, page));
    }
    if (id == "getRoomStateWithKey" || id == "getRoomState" || id == "getJoinedMembersByRoom" ||
        id == "getMembersByRoom" || id == "getOneRoomEvent") {
        if (!ctx.asAuth) {
            if (auto e = requireJoined()) return finish(*e);
        }
        if (id == "getRoomStateWithKey") {
            const json* ev = logic.stateEvent(*r, ctx.params["eventType"], ctx.params["stateKey"]);
            if (!ev) return finish(err(404, "M_NOT_FOUND", "Event not found."));
            return finish(HttpResponse::json(200, req.query.count("format") && req.query.at("format") == "event"
                                                      ? *ev : (*ev)["content"]));
        }
        if (id == "getRoomState") {
            json out = json::array();
            for (const auto& [_, ev] : r->state) out.push_back(ev);
            return finish(HttpResponse::json(200, out));
        }
        if (id == "getMembersByRoom") {
            json chunk = json::array();
            for (const auto& [key, ev] : r->state) if (key.first == "m.room.member") chunk.push_back(ev);
            return finish(HttpResponse::json(200, json{{"chunk", chunk}}));
        }
        if (id == "getOneRoomEvent") {
            for (const auto& ev : r->timeline) {
                if (ev["event_id"] == ctx.params["eventId"]) return finish(HttpResponse::json(200, ev));
            }
            return finish(err(404, "M_NOT_FOUND", "Event not found."));
        }
        json joined = json::object();
        for (const auto& [key, ev] : r->state) {
            if (key.first != "m.room.member" || ev["content"].value("membership", "") != "join") continue;
            json info = json::object();
            if (ev["content"].contains("displayname")) info["display_name"] = ev["content"]["displayname"];
            if (ev["content"].contains("avatar_url")) info["avatar_url"] = ev["content"]["avatar_url"];
            joined[key.second] = info;
        }
        return finish(HttpResponse::json(200, json{{"joined", joined}}));
    }
    if (id == "getJoinedRooms") {
        json rooms = json::array();
        for (const auto& [roomId, room] : state_->rooms) {
            if (logic.membership(room, ctx.userId) == "join") rooms.push_back(roomId);
        }
        return finish(HttpResponse::json(200, json{{"joined_rooms", rooms}}));
    }

    // --- Ephemeral --------------------------------------------------------------------------------
    if (id == "setTyping") {
        if (ctx.params["userId"] != ctx.userId) return finish(err(403, "M_FORBIDDEN", "Cannot set another user's typing state"));
        if (auto e = requireJoined()) return finish(*e);
        if (ctx.body.value("typing", false)) r->typing.insert(ctx.userId);
        else r->typing.erase(ctx.userId);
        return finish(HttpResponse::json(200, json::object()));
    }
    if (id == "postReceipt") {
        if (auto e = requireJoined()) return finish(*e);
        json receipt{{"room_id", r->id}, {"user_id", ctx.userId}, {"receipt_type", ctx.params["receiptType"]},
                     {"event_id", ctx.params["eventId"]}};
        if (ctx.body.contains("thread_id")) receipt["thread_id"] = ctx.body["thread_id"];
        state_->receipts.push_back(receipt);
        return finish(HttpResponse::json(200, json::object()));
    }
    if (id == "setPresence") {
        if (ctx.params["userId"] != ctx.userId) return finish(err(403, "M_FORBIDDEN", "Cannot set another user's presence"));
        state_->presence[ctx.userId] = ctx.body;
        return finish(HttpResponse::json(200, json::object()));
    }
    if (id == "getPresence") {
        auto it = state_->presence.find(ctx.params["userId"]);
        if (it == state_->presence.end()) return finish(HttpResponse::json(200, json{{"presence", "offline"}}));
        return finish(HttpResponse::json(200, it->second));
    }

    // --- Profiles ------------------------------------------------------------------------------------
    if (id == "getUserProfile" || id == "getProfileField") {
        auto it = state_->users.find(ctx.params["userId"]);
        if (it == state_->users.end()) return finish(err(404, "M_NOT_FOUND", "Profile was not found."));
        json out = json::object();
        if (it->second.displayname) out["displayname"] = *it->second.displayname;
        if (it->second.avatarUrl) out["avatar_url"] = *it->second.avatarUrl;
        if (id == "getProfileField") {
            const std::string key = ctx.params["keyName"];
            if (!out.contains(key)) return finish(err(404, "M_NOT_FOUND", "Profile field was not found."));
            return finish(HttpResponse::json(200, json{{key, out[key]}}));
        }
        return finish(HttpResponse::json(200, out));
    }
    if (id == "setProfileField" || id == "deleteProfileField") {
        const std::string user = ctx.params["userId"];
        const std::string key = ctx.params["keyName"];
        if (user != ctx.userId) return finish(err(403, "M_FORBIDDEN", "Cannot set another user's profile"));
        if (key != "displayname" && key != "avatar_url") {
            return finish(err(400, "M_UNRECOGNIZED", "HomeserverDouble stores only displayname and avatar_url"));
        }
        std::optional<std::string> value;
        if (id == "setProfileField") {
            if (!ctx.body.contains(key) || !ctx.body[key].is_string()) {
                return finish(err(400, "M_BAD_JSON", "Body must hold the string field " + key));
            }
            value = ctx.body[key].get<std::string>();
        }
        Profile& p = state_->users[user];
        (key == "displayname" ? p.displayname : p.avatarUrl) = value;
        // Like Synapse, a profile change is a new member event in every joined room.
        for (auto& [roomId, room] : state_->rooms) {
            if (logic.membership(room, user) == "join") logic.setMembership(room, user, user, "join");
        }
        return finish(HttpResponse::json(200, json::object()));
    }

    // --- Media ---------------------------------------------------------------------------------------
    if (id == "uploadContent") {
        const std::string mediaId = state_->random(24);
        const std::string uri = "mxc://" + server + "/" + mediaId;
        auto type = req.headers.find("content-type");
        state_->media[uri] = {type == req.headers.end() ? "application/octet-stream" : type->second, req.body};
        if (auto name = req.query.find("filename"); name != req.query.end()) state_->mediaNames[uri] = name->second;
        return finish(HttpResponse::json(200, json{{"content_uri", uri}}));
    }
    if (id == "getContentAuthed" || id == "getContentOverrideNameAuthed" || id == "getContent" ||
        id == "getContentOverrideName") {
        const bool authed = id == "getContentAuthed" || id == "getContentOverrideNameAuthed";
        if (!authed && config_.authenticatedMediaOnly)  // Synapse's answer for frozen media
            return finish(err(404, "M_NOT_FOUND", "Not found"));
        const std::string uri = "mxc://" + ctx.params["serverName"] + "/" + ctx.params["mediaId"];
        auto it = state_->media.find(uri);
        if (it == state_->media.end()) return finish(err(404, "M_NOT_FOUND", "Not found"));
        HttpResponse res;
        res.headers["Content-Type"] = it->second.first;
        if (auto name = state_->mediaNames.find(uri); name != state_->mediaNames.end())
            res.headers["Content-Disposition"] = "inline; filename=\"" + name->second + "\"";
        res.body = it->second.second;
        return finish(res);
    }
    if (id == "getConfigAuthed" || id == "getConfig") {
        return finish(HttpResponse::json(200, json{{"m.upload.size", 50 * 1024 * 1024}}));
    }

    state_->unimplemented.push_back(req.method + " " + op->path + " (" + id + ")");
    return finish(err(404, "M_UNRECOGNIZED", "Not implemented by HomeserverDouble: " + id));
}

// --- Transaction pusher ----------------------------------------------------------------------------

void HomeserverDouble::pusherLoop() {
    std::unique_lock lock(state_->mutex);
    milliseconds backoff = config_.retryInitial;
    while (true) {
        state_->cv.wait(lock, [&] {
            return state_->stop || (!state_->paused && !state_->asUrl.empty() &&
                                    (state_->inFlight || !state_->queue.empty() || !state_->rawTransactions.empty()));
        });
        if (state_->stop) return;
        if (!state_->inFlight) {
            json body;
            if (!state_->rawTransactions.empty()) {
                body = state_->rawTransactions.front();
                state_->rawTransactions.pop_front();
                state_->inFlightEvents = 0;
            } else {
                json events = json::array();
                while (!state_->queue.empty() && events.size() < 50) {
                    events.push_back(state_->queue.front());
                    state_->queue.pop_front();
                }
                state_->inFlightEvents = events.size();
                body = json{{"events", events}};
            }
            state_->inFlight = {std::to_string(state_->nextTxn++), body};
        }
        const auto [txnId, body] = *state_->inFlight;
        const std::string asUrl = state_->asUrl;
        lock.unlock();

        PushAttempt attempt;
        attempt.txnId = txnId;
        attempt.body = body;
        StringMap headers;
        if (config_.legacyPaths) {
            attempt.target = "/transactions/" + txnId + "?access_token=" + config_.hsToken;
        } else {
            attempt.target = "/_matrix/app/v1/transactions/" + txnId;
            headers["Authorization"] = "Bearer " + config_.hsToken;
        }
        auto res = httpCall(asUrl, "PUT", attempt.target, headers, body.dump(), config_.appserviceTimeout);
        attempt.status = res.status;
        if (!res.connected || res.status == 0) {
            attempt.error = "no answer: " + res.error;
        } else if (res.status != 200) {
            attempt.error = "status " + std::to_string(res.status) + ": " + res.body;
        } else if (!res.hadContentLength) {
            attempt.error = "answer without Content-Length";
        } else if (json parsed = json::parse(res.body, nullptr, false); !parsed.is_object()) {
            attempt.error = "answer is not a JSON object: " + res.body;
        } else {
            attempt.ok = true;
        }

        lock.lock();
        state_->attempts.push_back(attempt);
        if (attempt.ok) {
            state_->delivered.push_back(attempt);
            state_->inFlight.reset();
            state_->inFlightEvents = 0;
            backoff = config_.retryInitial;
        } else {
            state_->cv.wait_for(lock, backoff, [&] { return state_->stop; });
            backoff = std::min(backoff * 2, config_.retryMax);
        }
    }
}

// --- Test API ----------------------------------------------------------------------------------------

void HomeserverDouble::addUser(const std::string& userId, const Profile& profile) {
    std::lock_guard lock(state_->mutex);
    state_->users.emplace(userId, profile);
}

std::string HomeserverDouble::createRoom(const std::string& creatorId, const json& createBody) {
    std::lock_guard lock(state_->mutex);
    state_->users.emplace(creatorId, Profile{});
    HomeserverLogic logic(config_, *state_);
    return logic.createRoom(creatorId, createBody.is_object() ? createBody : json::object(), nullptr);
}

void HomeserverDouble::forceJoin(const std::string& roomId, const std::string& userId) {
    std::lock_guard lock(state_->mutex);
    state_->users.emplace(userId, Profile{});
    HomeserverLogic logic(config_, *state_);
    if (RoomRecord* r = logic.room(roomId)) logic.setMembership(*r, userId, userId, "join");
}

std::string HomeserverDouble::sendAsUser(const std::string& roomId, const std::string& userId,
                                         const json& content, const std::string& type) {
    return injectEvent(json{{"room_id", roomId}, {"sender", userId}, {"type", type}, {"content", content}});
}

std::string HomeserverDouble::injectEvent(json event) {
    std::lock_guard lock(state_->mutex);
    HomeserverLogic logic(config_, *state_);
    RoomRecord* r = logic.room(event.value("room_id", ""));
    if (!r) throw std::invalid_argument("injectEvent: unknown room " + event.value("room_id", ""));
    return logic.append(*r, std::move(event));
}

void HomeserverDouble::pushTransaction(const json& body) {
    std::lock_guard lock(state_->mutex);
    state_->rawTransactions.push_back(body);
    state_->cv.notify_all();
}

std::vector<json> HomeserverDouble::timeline(const std::string& roomId) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->rooms.find(roomId);
    return it == state_->rooms.end() ? std::vector<json>{} : it->second.timeline;
}

std::optional<json> HomeserverDouble::stateContent(const std::string& roomId, const std::string& type,
                                                   const std::string& stateKey) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->rooms.find(roomId);
    if (it == state_->rooms.end()) return std::nullopt;
    auto ev = it->second.state.find({type, stateKey});
    if (ev == it->second.state.end()) return std::nullopt;
    return ev->second["content"];
}

std::map<std::string, std::string> HomeserverDouble::members(const std::string& roomId) const {
    std::lock_guard lock(state_->mutex);
    std::map<std::string, std::string> out;
    auto it = state_->rooms.find(roomId);
    if (it == state_->rooms.end()) return out;
    for (const auto& [key, ev] : it->second.state) {
        if (key.first == "m.room.member") out[key.second] = ev["content"].value("membership", "");
    }
    return out;
}

std::optional<std::string> HomeserverDouble::roomForAlias(const std::string& alias) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->aliases.find(alias);
    if (it == state_->aliases.end()) return std::nullopt;
    return it->second;
}

Profile HomeserverDouble::profile(const std::string& userId) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->users.find(userId);
    return it == state_->users.end() ? Profile{} : it->second;
}

bool HomeserverDouble::isRegistered(const std::string& userId) const {
    std::lock_guard lock(state_->mutex);
    return state_->users.count(userId) > 0;
}

std::optional<json> HomeserverDouble::presence(const std::string& userId) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->presence.find(userId);
    if (it == state_->presence.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> HomeserverDouble::typing(const std::string& roomId) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->rooms.find(roomId);
    if (it == state_->rooms.end()) return {};
    return {it->second.typing.begin(), it->second.typing.end()};
}

std::vector<json> HomeserverDouble::receipts() const {
    std::lock_guard lock(state_->mutex);
    return state_->receipts;
}

std::optional<std::string> HomeserverDouble::media(const std::string& mxcUri) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->media.find(mxcUri);
    if (it == state_->media.end()) return std::nullopt;
    return it->second.second;
}

std::string HomeserverDouble::addMedia(const std::string& bytes, const std::string& contentType,
                                      const std::string& fileName) {
    std::lock_guard lock(state_->mutex);
    const std::string uri = "mxc://" + config_.serverName + "/" + state_->random(24);
    state_->media[uri] = {contentType, bytes};
    if (!fileName.empty()) state_->mediaNames[uri] = fileName;
    return uri;
}

std::vector<RecordedRequest> HomeserverDouble::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

std::vector<std::string> HomeserverDouble::specViolations() const {
    std::lock_guard lock(state_->mutex);
    return state_->violations;
}

std::vector<std::string> HomeserverDouble::unimplemented() const {
    std::lock_guard lock(state_->mutex);
    return state_->unimplemented;
}

std::vector<PushAttempt> HomeserverDouble::pushAttempts() const {
    std::lock_guard lock(state_->mutex);
    return state_->attempts;
}

std::vector<PushAttempt> HomeserverDouble::deliveredTransactions() const {
    std::lock_guard lock(state_->mutex);
    return state_->delivered;
}

std::size_t HomeserverDouble::pendingEvents() const {
    std::lock_guard lock(state_->mutex);
    return state_->queue.size() + state_->inFlightEvents + state_->rawTransactions.size() +
           (state_->inFlight && state_->inFlightEvents == 0 ? 1 : 0);
}

bool HomeserverDouble::waitFor(const std::function<bool()>& predicate, milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (predicate()) return true;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return predicate();
}

bool HomeserverDouble::waitForDelivery(milliseconds timeout) const {
    return waitFor([this] { return pendingEvents() == 0; }, timeout);
}

void HomeserverDouble::goDown(milliseconds duration) {
    if (state_->downTimer.joinable()) {
        {
            std::lock_guard lock(state_->mutex);
            state_->downTimerCancel = true;
        }
        state_->cv.notify_all();
        state_->downTimer.join();
    }
    server_->stopListening();
    if (duration.count() > 0) {
        std::lock_guard lock(state_->mutex);
        state_->downTimerCancel = false;
        state_->downTimer = std::thread([this, duration] {
            std::unique_lock lock(state_->mutex);
            if (state_->cv.wait_for(lock, duration, [&] { return state_->downTimerCancel; })) return;
            lock.unlock();
            server_->resumeListening();
        });
    }
}

void HomeserverDouble::comeBack() { server_->resumeListening(); }

void HomeserverDouble::rateLimitNext(int n, int retryAfterMs) {
    std::lock_guard lock(state_->mutex);
    state_->rateLimitCount = n;
    state_->rateLimitMs = retryAfterMs;
}

void HomeserverDouble::failNext(int n, int status) {
    std::lock_guard lock(state_->mutex);
    state_->failCount = n;
    state_->failStatus = status;
}

void HomeserverDouble::setOperationLatency(const std::string& operationId, milliseconds latency) {
    std::lock_guard lock(state_->mutex);
    if (latency.count() > 0) {
        state_->operationLatency[operationId] = latency;
    } else {
        state_->operationLatency.erase(operationId);
    }
}

void HomeserverDouble::setAnswerDelay(const std::string& operationId, milliseconds delay) {
    std::lock_guard lock(state_->mutex);
    if (delay.count() > 0) {
        state_->answerDelay[operationId] = delay;
    } else {
        state_->answerDelay.erase(operationId);
    }
}

void HomeserverDouble::setLatency(milliseconds latency) {
    std::lock_guard lock(state_->mutex);
    state_->latency = latency;
}

void HomeserverDouble::restartTxnIds() {
    std::lock_guard lock(state_->mutex);
    state_->nextTxn = 1;
}

void HomeserverDouble::pausePusher(bool paused) {
    std::lock_guard lock(state_->mutex);
    state_->paused = paused;
    state_->cv.notify_all();
}

}  // namespace mxbridge::test
