#include "login/login_provisioning.h"

#include <algorithm>

namespace mxbridge::detail {

namespace {

using nlohmann::json;

const char* kindName(LoginField::Kind kind) {
    switch (kind) {
        case LoginField::Kind::Text: return "text";
        case LoginField::Kind::Secret: return "secret";
        case LoginField::Kind::Server: return "server";
        case LoginField::Kind::Number: return "number";
    }
    return "text";
}

const char* stepType(LoginStep::Kind kind) {
    switch (kind) {
        case LoginStep::Kind::Fields: return "fields";
        case LoginStep::Kind::DisplayAndWait: return "display_and_wait";
        case LoginStep::Kind::Complete: return "complete";
    }
    return "fields";
}

json stepJson(const LoginPrompt& p) {
    json fields = json::array();
    for (const LoginField& f : p.fields)
        fields.push_back({{"id", f.id}, {"label", f.label}, {"kind", kindName(f.kind)},
                          {"required", f.required}, {"default", f.defaultValue}});
    json out = {{"session_id", p.sessionId}, {"network", p.network}, {"type", stepType(p.kind)},
                {"instructions", p.instructions}, {"fields", std::move(fields)}, {"display", p.display}};
    if (p.stored)
        out["login"] = {{"network", p.stored->network}, {"login_id", p.stored->id}, {"remote_name", p.remoteName}};
    return out;
}

ProvisioningReply failure(unsigned status, const char* errcode, const Error& e) {
    ProvisioningReply r = ProvisioningReply::error(status, errcode, e.message);
    r.body["code"] = e.code;
    return r;
}

// A login's error as an HTTP answer: the caller's mistake, nothing to act on, or the network's no.
ProvisioningReply replyFor(const Error& e) {
    if (e.code == "no_logins") return failure(404, "M_UNRECOGNIZED", e);
    if (e.code == "unknown_network" || e.code == "unknown_flow" || e.code == "M_INVALID_PARAM")
        return failure(400, "M_INVALID_PARAM", e);
    if (e.code == "M_NOT_FOUND" || e.code == kLoginEnded) return failure(404, "M_NOT_FOUND", e);
    if (e.code == "busy") return failure(409, "M_UNKNOWN", e);
    if (e.code == "login_not_stored") return failure(500, "M_UNKNOWN", e);
    return failure(403, "M_FORBIDDEN", e);
}

ProvisioningReply reply(const Result<LoginPrompt>& result) {
    if (!result) return replyFor(result.error());
    return {200, stepJson(*result)};
}

ProvisioningReply missing(const std::string& what) {
    return ProvisioningReply::error(400, "M_MISSING_PARAM", what);
}

// A string from the body, else from the query; nullopt when absent, an error when not a string.
Result<std::optional<std::string>> param(const ProvisioningRequest& req, const char* key) {
    if (req.body.is_object() && req.body.contains(key)) {
        if (!req.body[key].is_string())
            return Error::permanent("M_INVALID_PARAM", std::string(key) + " must be a string");
        return std::optional<std::string>(req.body[key].get<std::string>());
    }
    auto it = req.query.find(key);
    if (it != req.query.end()) return std::optional<std::string>(it->second);
    return std::optional<std::string>();
}

}  // namespace

void LoginProvisioning::registerIn(ProvisioningApi& api) {
    api.addExtra("GET", "/logins", [this](const ProvisioningRequest& r) { return listLogins(r); });
    api.addExtra("POST", "/login/start", [this](const ProvisioningRequest& r) { return start(r); });
    api.addExtra("POST", "/login/step", [this](const ProvisioningRequest& r) { return step(r); });
    api.addExtra("DELETE", "/login", [this](const ProvisioningRequest& r) { return remove(r); });
}

ProvisioningReply LoginProvisioning::listLogins(const ProvisioningRequest& req) {
    if (!req.user) return missing("user_id is required");
    std::vector<RemoteStateEntry> states = deps_.states.snapshot();
    json logins = json::array();
    for (const Login& l : deps_.store.ofOwner(*req.user)) {
        json entry = {{"network", l.network}, {"login_id", l.id}, {"remote_name", l.remoteName},
                      {"state", nullptr}, {"reason", ""}, {"since", nullptr}};
        auto st = std::find_if(states.begin(), states.end(), [&](const RemoteStateEntry& e) {
            return e.subject.owner == l.user && e.subject.network == l.network && e.subject.loginId == l.id;
        });
        if (st != states.end()) {
            entry["state"] = std::string(remoteStateName(st->status.state));
            entry["reason"] = st->status.reason;
            entry["since"] = st->sinceMs;
        }
        logins.push_back(std::move(entry));
    }
    json body = {{"logins", std::move(logins)}};
    if (auto p = deps_.sessions.pending(*req.user)) body["in_progress"] = stepJson(*p);
    return {200, std::move(body)};
}

ProvisioningReply LoginProvisioning::start(const ProvisioningRequest& req) {
    if (!req.user) return missing("user_id is required");
    auto network = param(req, "network");
    auto flow = param(req, "flow");
    if (!network) return replyFor(network.error());
    if (!flow) return replyFor(flow.error());
    // No one to tell of a time-out here: the next call answers 404 saying so.
    return reply(deps_.sessions.start(*req.user, network->value_or(""), flow->value_or(""), nullptr));
}

ProvisioningReply LoginProvisioning::step(const ProvisioningRequest& req) {
    if (!req.user) return missing("user_id is required");
    auto session = param(req, "session_id");
    if (!session) return replyFor(session.error());
    if (!*session) return missing("session_id is required (from POST /login/start)");
    std::optional<LoginPrompt> pending = deps_.sessions.pending(*req.user);
    if (pending && pending->sessionId == **session && pending->kind == LoginStep::Kind::DisplayAndWait)
        return reply(deps_.sessions.wait(*req.user, **session));
    const json values = req.body.is_object() ? req.body.value("values", json::object()) : json::object();
    if (!values.is_object()) return ProvisioningReply::error(400, "M_BAD_JSON", "values must be an object of strings");
    LoginInput input;
    for (const auto& [id, value] : values.items()) {
        if (!value.is_string()) return ProvisioningReply::error(400, "M_BAD_JSON", "values." + id + " must be a string");
        bool secret = false;
        if (pending)
            for (const LoginField& f : pending->fields) secret = secret || (f.id == id && f.kind == LoginField::Kind::Secret);
        if (secret) input.secrets[id] = Secret<std::string>(value.get<std::string>());
        else input.values[id] = value.get<std::string>();
    }
    if (pending) {
        for (const LoginField& f : pending->fields) {
            bool given = input.values.count(f.id) || input.secrets.count(f.id);
            if (!given && f.required && f.defaultValue.empty())
                return missing("values." + f.id + " is required (" + f.label + ")");
            if (!given && !f.defaultValue.empty()) input.values[f.id] = f.defaultValue;
        }
    }
    return reply(deps_.sessions.submit(*req.user, **session, std::move(input)));
}

ProvisioningReply LoginProvisioning::remove(const ProvisioningRequest& req) {
    if (!req.user) return missing("user_id is required");
    auto network = param(req, "network");
    auto id = param(req, "login_id");
    if (!network) return replyFor(network.error());
    if (!id) return replyFor(id.error());
    if (!*network) return missing("network is required");
    LoginKey key{*req.user, **network, id->value_or("")};
    if (!deps_.clients.logout(key))
        return ProvisioningReply::error(404, "M_NOT_FOUND", req.user->str() + " has no login on " + key.network +
                                                                (key.id.empty() ? "" : " named " + key.id));
    return {200, json::object()};
}

}  // namespace mxbridge::detail
