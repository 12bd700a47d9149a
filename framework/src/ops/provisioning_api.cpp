#include "ops/provisioning_api.h"

#include <set>

#include <boost/asio/post.hpp>

#include "appservice/token_auth.h"
#include "mxbridge/connector.h"
#include "ops/room_power.h"

namespace mxbridge::detail {

namespace {

using nlohmann::json;

std::map<std::string, std::string> parseQuery(std::string_view target) {
    std::map<std::string, std::string> out;
    size_t q = target.find('?');
    if (q == std::string_view::npos) return out;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        size_t amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        std::string key = percentDecode(pair.substr(0, pair.find('=')));
        // The secret never travels in the query; don't hand it on if someone put it there.
        if (!key.empty() && key != "access_token")
            out[key] = TokenAuth::queryParam("?" + std::string(pair), key);
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return out;
}

// The errors for ids that fail the spec's grammar (mxbridge/ids.h); said in full so a
// caller sees why a long or odd-looking id was refused.
const char* const kBadRoomId = "room_id must be a Matrix room id like !abc:example.org: at most 255 bytes, "
                               "printable ASCII, a valid server name";
const char* const kBadUserId = "user_id must be a Matrix user id like @alice:example.org: at most 255 bytes, "
                               "printable ASCII, a valid server name";

json linkJson(const Link& l) {
    return {{"room_id", l.room.str()}, {"remote_room", l.remote.str()}, {"options", l.options}};
}

ProvisioningReply replyFor(const Error& e) {
    if (e.retryable) return ProvisioningReply::error(503, e.code.rfind("M_", 0) == 0 ? e.code : "M_UNKNOWN", e.message);
    if (e.code == "M_NOT_FOUND") return ProvisioningReply::error(404, e.code, e.message);
    // The bridge found the request malformed (e.g. not one remote room): the caller's mistake.
    if (e.code == "M_INVALID_PARAM") return ProvisioningReply::error(400, e.code, e.message);
    return ProvisioningReply::error(403, e.code.rfind("M_", 0) == 0 ? e.code : "M_FORBIDDEN", e.message);
}

ProvisioningReply badParam(const std::string& message) {
    return ProvisioningReply::error(400, "M_INVALID_PARAM", message);
}

}  // namespace

ProvisioningApi::ProvisioningApi(ProvisioningOptions options, LinkStore& links, PowerLevels powerLevels,
                                 LinkConsent consent, Metrics& metrics)
    : options_(std::move(options)),
      links_(links),
      powerLevels_(std::move(powerLevels)),
      consent_(std::move(consent)),
      refused_(metrics.counter("mxbridge_provisioning_refused_total",
                               "Provisioning requests refused (secret, power level, bridge veto, malformed)")),
      linked_(metrics.counter("mxbridge_provisioning_changes_total",
                              "Links made or removed through the provisioning API", {{"action", "link"}})),
      unlinked_(metrics.counter("mxbridge_provisioning_changes_total", "", {{"action", "unlink"}})),
      gate_(options_.sharedSecret) {}

ProvisioningApi::~ProvisioningApi() { workers_.join(); }

void ProvisioningApi::addExtra(const std::string& method, const std::string& path, ExtraHandler handler) {
    std::lock_guard lock(extrasMutex_);
    extras_[{method, path.empty() || path[0] != '/' ? "/" + path : path}] = std::move(handler);
}

std::optional<HttpResponse> ProvisioningApi::onHeaders(const http::request_header<>& header) {
    std::string_view target(header.target().data(), header.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path.substr(0, kPrefix.size()) != kPrefix ||
        (path.size() > kPrefix.size() && path[kPrefix.size()] != '/')) {
        return matrixError(http::status::not_found, "M_UNRECOGNIZED", "Unrecognized request");
    }
    if (auto refusal = gate_.refusal(header, path)) {
        refused_.inc();
        return refusal;
    }
    return std::nullopt;  // the body limit is the server's to enforce: termsFor()
}

RequestTerms ProvisioningApi::termsFor(const http::request_header<>&) const {
    // Held to this limit on the bytes read, chunked or not: a 40 MB chunked JSON array once
    // took the process to ~750 MB when only Content-Length was checked (issue 9, item 19b).
    return RequestTerms{.bodyLimit = options_.maxBodyBytes, .limitName = "the provisioning body limit"};
}

void ProvisioningApi::onRequest(HttpRequest&& request, Responder respond) {
    auto shared = std::make_shared<HttpRequest>(std::move(request));
    boost::asio::post(workers_, [this, shared, respond = std::move(respond)] {
        const HttpRequest& r = *shared;
        ProvisioningReply reply;
        try {
            std::string_view target(r.target().data(), r.target().size());
            std::string_view path = target.substr(0, target.find('?'));
            ProvisioningRequest req;
            req.method = std::string(r.method_string());
            req.path = std::string(path.substr(kPrefix.size()));
            if (req.path.empty()) req.path = "/";
            req.query = parseQuery(target);
            if (!r.body().empty()) {
                req.body = json::parse(r.body(), nullptr, false);
                if (req.body.is_discarded()) {
                    refused_.inc();
                    respond(matrixError(http::status::bad_request, "M_NOT_JSON", "The body is not JSON"));
                    return;
                }
            }
            // Present but empty is refused too, not taken for "no user given".
            std::optional<std::string> user;
            if (req.body.is_object() && req.body.contains("user_id")) {
                if (!req.body["user_id"].is_string()) {
                    respond(matrixError(http::status::bad_request, "M_INVALID_PARAM", "user_id must be a string"));
                    return;
                }
                user = req.body["user_id"].get<std::string>();
            } else if (req.query.count("user_id")) {
                user = req.query["user_id"];
            }
            if (user) {
                if (!isValidUserId(*user)) {
                    refused_.inc();
                    respond(matrixError(http::status::bad_request, "M_INVALID_PARAM", kBadUserId));
                    return;
                }
                req.user = UserId(std::move(*user));
            }
            reply = route(req);
        } catch (const std::exception& e) {
            log_.error("provisioning request failed", {{"error", e.what()}});
            reply = ProvisioningReply::error(500, "M_UNKNOWN", "The bridge could not handle this request");
        }
        if (reply.status >= 400) refused_.inc();
        respond(jsonResponse(static_cast<http::status>(reply.status), reply.body.dump(-1, ' ', false,
                             json::error_handler_t::replace), r.version()));
    });
}

ProvisioningReply ProvisioningApi::route(const ProvisioningRequest& req) {
    const std::string& m = req.method;
    const std::string& p = req.path;
    if (p == "/links") {
        if (m == "GET") return listLinks(req);
    } else if (p == "/link") {
        if (m == "POST") return changeLink(req, false);
        if (m == "DELETE") return changeLink(req, true);
    } else if (p == "/unlink") {
        if (m == "POST") return changeLink(req, true);
    } else if (p == "/bridge") {
        if (m == "GET") return bridgeInfo();
    } else {
        ExtraHandler extra;
        bool pathKnown = false;
        {
            std::lock_guard lock(extrasMutex_);
            auto it = extras_.find({m, p});
            if (it != extras_.end()) extra = it->second;
            for (const auto& [key, _] : extras_) pathKnown = pathKnown || key.second == p;
        }
        if (extra) return extra(req);
        if (!pathKnown) return ProvisioningReply::error(404, "M_UNRECOGNIZED", "Unrecognized request");
    }
    return ProvisioningReply::error(405, "M_UNRECOGNIZED", "Method not allowed for this path");
}

Result<void> ProvisioningApi::checkPower(const UserId& user, const RoomId& room) {
    return checkRoomManagePower(powerLevels_, user, room, log_);
}

ProvisioningReply ProvisioningApi::listLinks(const ProvisioningRequest& req) {
    std::vector<Link> found;
    auto room = req.query.find("room_id");
    if (room != req.query.end()) {
        if (!isValidRoomId(room->second)) return badParam(kBadRoomId);
        if (req.user) {
            if (auto ok = checkPower(*req.user, RoomId(room->second)); !ok) return replyFor(ok.error());
        }
        found = links_.forRoom(RoomId(room->second));
    } else {
        found = links_.all();
    }
    json list = json::array();
    for (const auto& l : found) list.push_back(linkJson(l));
    return {200, {{"links", std::move(list)}}};
}

ProvisioningReply ProvisioningApi::changeLink(const ProvisioningRequest& req, bool unlink) {
    if (!req.body.is_object())
        return ProvisioningReply::error(400, req.body.is_null() ? "M_NOT_JSON" : "M_BAD_JSON",
                                        "Expected a JSON object body with room_id, remote_room and user_id");
    auto str = [&](const char* key) -> std::optional<std::string> {
        auto it = req.body.find(key);
        if (it == req.body.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    auto roomId = str("room_id");
    auto remote = str("remote_room");
    if (!roomId || !remote || !req.user)
        return ProvisioningReply::error(400, "M_MISSING_PARAM",
                                        "room_id, remote_room and user_id are required strings");
    if (!isValidRoomId(*roomId)) return badParam(kBadRoomId);
    if (remote->empty()) return badParam("remote_room must not be empty");
    Link link{RoomId(*roomId), RemoteRoomId(*remote), json::object()};
    if (!unlink && req.body.contains("options")) {
        if (!req.body["options"].is_object()) return badParam("options must be a JSON object");
        link.options = req.body["options"];
    }
    if (auto ok = checkPower(*req.user, link.room); !ok) {
        log_.info("provisioning refused: too little power",
                  {{"user", req.user->str()}, {"room", link.room.str()}});
        return replyFor(ok.error());
    }
    if (unlink) {
        bool exists = false;
        for (const auto& l : links_.forRoom(link.room)) {
            if (l.remote == link.remote) {
                link = l;
                exists = true;
            }
        }
        if (!exists) {
            return ProvisioningReply::error(404, "M_NOT_FOUND", link.room.str() + " is not linked to " +
                                                                     link.remote.str());
        }
    }
    if (consent_) {
        Result<void> ok = consent_(link, unlink, *req.user);
        if (!ok && ok.error().code == kLinkPending) {
            log_.info("provisioning link waits for the remote side",
                      {{"user", req.user->str()}, {"room", link.room.str()}, {"remote_room", link.remote.str()}});
            return {202, {{"pending", true}, {"message", ok.error().message}}};
        }
        if (!ok) {
            log_.info("provisioning refused by the bridge",
                      {{"user", req.user->str()}, {"room", link.room.str()},
                       {"remote_room", link.remote.str()}, {"error", ok.error().message}});
            return replyFor(ok.error());
        }
    }
    if (unlink) {
        links_.unlink(link.room, link.remote);
        unlinked_.inc();
    } else {
        links_.link(link);
        linked_.inc();
    }
    log_.info(unlink ? "unlinked through provisioning" : "linked through provisioning",
              {{"user", req.user->str()}, {"room", link.room.str()}, {"remote_room", link.remote.str()}});
    if (unlink) return {200, json::object()};
    return {200, {{"link", linkJson(link)}}};
}

ProvisioningReply ProvisioningApi::bridgeInfo() {
    auto all = links_.all();
    std::set<std::string> rooms, remotes;
    for (const auto& l : all) {
        rooms.insert(l.room.str());
        remotes.insert(l.remote.str());
    }
    return {200, {{"name", options_.bridgeName},
                  {"network", options_.networkName},
                  {"links", all.size()},
                  {"rooms", rooms.size()},
                  {"remote_rooms", remotes.size()}}};
}

}  // namespace mxbridge::detail
