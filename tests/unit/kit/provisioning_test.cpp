// The provisioning API over real HTTP on 127.0.0.1: links listed, made and removed for a
// Matrix user with enough power; bad secrets, too little power, malformed bodies and bridge
// vetoes refused; extras; and the route hook on the appservice listener.
#include <doctest/doctest.h>

#include <map>
#include <mutex>

#include "appservice/appservice_api.h"
#include "appservice/http_server.h"
#include "http_client.h"
#include "mxbridge/connector.h"
#include "ops/provisioning_api.h"
#include "raw_connection.h"
#include "store_rig.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace mxbridge::detail::testing;
using nlohmann::json;
using test::HttpClient;

namespace {

const std::string kSecret = "provisioning-secret-0123";
const test::HttpHeaders kAuth = {{"Authorization", "Bearer " + kSecret}};
const std::string kPrefix = "/_mxbridge/provision/v1";

// Stores, the API and a server hosting it; power levels and the bridge's consent are fakes.
struct Rig {
    StoreRig stores;
    Metrics metrics;
    std::mutex mutex;
    std::map<std::string, json> powerLevels = {
        {"!room:hs.test", {{"users", {{"@mod:hs.test", 50}, {"@owner:hs.test", "100"}}},
                           {"users_default", 0}, {"state_default", 50}}},
        {"!open:hs.test", {{"users_default", 10}, {"state_default", 10}}},
    };
    std::vector<std::pair<Link, bool>> consulted;
    std::vector<std::string> powerLevelsAsked;  // rooms whose power levels were looked up
    ProvisioningApi api{
        ProvisioningOptions{Secret<std::string>(kSecret), "irc", "IRC", 64 * 1024},
        stores.stores().links(),
        [this](const RoomId& room) -> std::optional<json> {
            std::lock_guard lock(mutex);
            powerLevelsAsked.push_back(room.str());
            auto it = powerLevels.find(room.str());
            if (it == powerLevels.end()) return std::nullopt;
            return it->second;
        },
        [this](const Link& link, bool unlink, const UserId&) -> Result<void> {
            std::lock_guard lock(mutex);
            consulted.emplace_back(link, unlink);
            if (link.remote.str() == "libera/#private")
                return Error::permanent("remote_refused", "#private is invite-only on libera");
            if (link.remote.str() == "libera/#ask")
                return Error::permanent(kLinkPending, "Asked the ops of #ask on libera");
            if (link.remote.str() == "libera/#a,#b")
                return Error::permanent("M_INVALID_PARAM", "\"#a,#b\" is not one channel name");
            return {};
        },
        metrics};
    HttpServer server{api, 1};
    std::unique_ptr<HttpClient> client;

    Rig() {
        server.listen("127.0.0.1", 0);
        client = std::make_unique<HttpClient>(server.port());
    }
    ~Rig() { server.stop(std::chrono::milliseconds(500)); }

    test::HttpResponse call(const std::string& method, const std::string& path, const json& body = nullptr,
                            const test::HttpHeaders& headers = kAuth) {
        test::HttpHeaders h = headers;
        if (!body.is_null()) h.emplace_back("Content-Type", "application/json");
        return client->request(method, kPrefix + path, h, body.is_null() ? "" : body.dump());
    }
};

json bodyOf(const test::HttpResponse& r) { return json::parse(r.body, nullptr, false); }
std::string errcode(const test::HttpResponse& r) { return bodyOf(r).value("errcode", ""); }

json linkBody(const std::string& user, const std::string& remote = "libera/#matrix",
              const std::string& room = "!room:hs.test") {
    return {{"room_id", room}, {"remote_room", remote}, {"user_id", user}};
}

}  // namespace

TEST_CASE("a moderator links, lists and unlinks a room") {
    Rig rig;
    json body = linkBody("@mod:hs.test");
    body["options"] = {{"relay", true}};
    auto linked = rig.call("POST", "/link", body);
    CHECK(linked.status == 200);
    CHECK(bodyOf(linked)["link"]["options"]["relay"] == true);
    CHECK(rig.call("POST", "/link", linkBody("@owner:hs.test", "libera/#other")).status == 200);

    auto all = rig.call("GET", "/links");
    REQUIRE(all.status == 200);
    CHECK(bodyOf(all)["links"].size() == 2);
    auto forRoom = rig.call("GET", "/links?room_id=%21room%3Ahs.test&user_id=%40mod%3Ahs.test");
    REQUIRE(forRoom.status == 200);
    CHECK(bodyOf(forRoom)["links"][0] ==
          json{{"room_id", "!room:hs.test"}, {"remote_room", "libera/#matrix"}, {"options", {{"relay", true}}}});
    auto info = rig.call("GET", "/bridge");
    CHECK(bodyOf(info) == json{{"name", "irc"}, {"network", "IRC"}, {"links", 2}, {"rooms", 1}, {"remote_rooms", 2}});

    CHECK(rig.call("DELETE", "/link", linkBody("@mod:hs.test")).status == 200);
    CHECK(rig.call("POST", "/unlink", linkBody("@mod:hs.test", "libera/#other")).status == 200);
    CHECK(rig.stores.stores().links().all().empty());
    auto again = rig.call("POST", "/unlink", linkBody("@mod:hs.test"));
    CHECK(again.status == 404);
    CHECK(errcode(again) == "M_NOT_FOUND");

    std::lock_guard lock(rig.mutex);
    REQUIRE(rig.consulted.size() == 4);
    CHECK_FALSE(rig.consulted[0].second);
    CHECK(rig.consulted[2].second);
    CHECK(rig.consulted[2].first.options["relay"] == true);  // the bridge sees the stored link
}

TEST_CASE("a missing or wrong shared secret is refused before the body is read") {
    Rig rig;
    auto missing = rig.call("GET", "/links", nullptr, {});
    CHECK(missing.status == 401);
    CHECK(errcode(missing) == "M_MISSING_TOKEN");
    auto wrong = rig.call("POST", "/link", linkBody("@mod:hs.test"), {{"Authorization", "Bearer nope"}});
    CHECK(wrong.status == 403);
    CHECK(errcode(wrong) == "M_FORBIDDEN");
    auto inQuery = rig.client->request("GET", kPrefix + "/links?access_token=" + kSecret);
    CHECK(inQuery.status == 401);
    CHECK(rig.stores.stores().links().all().empty());
}

TEST_CASE("a user below the room's state_default is refused with 403") {
    Rig rig;
    auto low = rig.call("POST", "/link", linkBody("@nobody:hs.test"));
    CHECK(low.status == 403);
    CHECK(errcode(low) == "M_FORBIDDEN");
    CHECK(bodyOf(low)["error"] ==
          "@nobody:hs.test has power level 0 in !room:hs.test; managing its bridges needs 50 (the room's state_default)");
    // users_default counts, and a room the bot cannot see is refused with what to do.
    CHECK(rig.call("POST", "/link", linkBody("@anyone:hs.test", "libera/#x", "!open:hs.test")).status == 200);
    auto unknown = rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#x", "!unseen:hs.test"));
    CHECK(unknown.status == 403);
    CHECK(bodyOf(unknown)["error"].get<std::string>().find("invite the bridge bot") != std::string::npos);
    CHECK(rig.call("GET", "/links?room_id=!room:hs.test&user_id=@nobody:hs.test").status == 403);
    std::lock_guard lock(rig.mutex);
    CHECK(rig.consulted.size() == 1);  // only the permitted request reached the bridge
}

TEST_CASE("malformed requests get 400 with a Matrix error code") {
    Rig rig;
    auto notJson = rig.client->request("POST", kPrefix + "/link", kAuth, "{not json");
    CHECK(notJson.status == 400);
    CHECK(errcode(notJson) == "M_NOT_JSON");
    CHECK(errcode(rig.call("POST", "/link", json::array({1}))) == "M_BAD_JSON");
    auto missing = rig.call("POST", "/link", json{{"room_id", "!room:hs.test"}, {"user_id", "@mod:hs.test"}});
    CHECK(missing.status == 400);
    CHECK(errcode(missing) == "M_MISSING_PARAM");
    CHECK(errcode(rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#x", "room"))) == "M_INVALID_PARAM");
    CHECK(errcode(rig.call("POST", "/link", linkBody("mod"))) == "M_INVALID_PARAM");
    json badOptions = linkBody("@mod:hs.test");
    badOptions["options"] = "relay";
    CHECK(rig.call("POST", "/link", badOptions).status == 400);
    CHECK(rig.call("GET", "/nowhere").status == 404);
    CHECK(rig.call("PUT", "/link", linkBody("@mod:hs.test")).status == 405);
    CHECK(rig.stores.stores().links().all().empty());
}

TEST_CASE("hostile or over-long room and user ids get 400 M_INVALID_PARAM, and nothing is looked up or linked") {
    Rig rig;
    using namespace std::string_literals;
    const std::string longRoom = "!" + std::string(300, 'a') + ":hs.test";
    for (const std::string& room : {"!a:b/../../../_synapse/admin/v1/x"s, "!a:b?access_token=x#frag"s,
                                    "!room:hs.test\r\nX-Injected: 1"s, "!room:hs.test\0"s, "!ro\nom:hs.test"s,
                                    longRoom, "!" + std::string(20000, 'a') + ":hs.test"}) {
        INFO("room_id " << json(room).dump());
        auto r = rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#matrix", room));
        CHECK(r.status == 400);
        CHECK(errcode(r) == "M_INVALID_PARAM");
    }
    // "@mod:hs.test\0" once passed the power check as @mod:hs.test (power 50).
    for (const std::string& user : {"@mod:hs.test\0"s, "@mod:hs.test\r\n"s, "@mo d:hs.test"s, "@mod:hs.test/../x"s,
                                    "@" + std::string(300, 'm') + ":hs.test", ""s}) {
        INFO("user_id " << json(user).dump());
        auto r = rig.call("POST", "/link", linkBody(user));
        CHECK(r.status == 400);
        CHECK(errcode(r) == "M_INVALID_PARAM");
    }
    // The same through the query string, percent-encoded as a client would send them.
    for (const std::string& query : {"room_id=%21a%3Ab%2F..%2F..%2F_synapse%2Fadmin&user_id=%40mod%3Ahs.test"s,
                                     "room_id=%21room%3Ahs.test%00&user_id=%40mod%3Ahs.test"s,
                                     "room_id=%21room%3Ahs.test&user_id=%40mod%3Ahs.test%00"s,
                                     "room_id=%21room%3Ahs.test&user_id=%40mod%3Ahs.test%0D%0A"s,
                                     "room_id=%21" + std::string(300, 'a') + "%3Ahs.test"}) {
        INFO("query " << query);
        auto r = rig.call("GET", "/links?" + query);
        CHECK(r.status == 400);
        CHECK(errcode(r) == "M_INVALID_PARAM");
    }
    CHECK(rig.stores.stores().links().all().empty());
    std::lock_guard lock(rig.mutex);
    CHECK(rig.powerLevelsAsked.empty());
    CHECK(rig.consulted.empty());
}

TEST_CASE("room ids of room version 12, without a server name, can be linked") {
    Rig rig;
    const std::string room = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM";
    {
        std::lock_guard lock(rig.mutex);
        rig.powerLevels[room] = {{"users", {{"@mod:hs.test", 50}}}, {"state_default", 50}};
    }
    CHECK(rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#matrix", room)).status == 200);
    CHECK(rig.stores.stores().links().forRoom(RoomId(room)).size() == 1);
}

TEST_CASE("the bridge can veto a link, and its reason reaches the caller") {
    Rig rig;
    auto vetoed = rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#private"));
    CHECK(vetoed.status == 403);
    CHECK(errcode(vetoed) == "M_FORBIDDEN");
    CHECK(bodyOf(vetoed)["error"] == "#private is invite-only on libera");
    CHECK(rig.stores.stores().links().all().empty());
}

TEST_CASE("a remote room the bridge finds malformed is answered 400 with its reason, not 403") {
    Rig rig;
    auto bad = rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#a,#b"));
    CHECK(bad.status == 400);
    CHECK(errcode(bad) == "M_INVALID_PARAM");
    CHECK(bodyOf(bad)["error"] == "\"#a,#b\" is not one channel name");
    CHECK(rig.stores.stores().links().all().empty());
}

TEST_CASE("a link the bridge must ask the remote side about is answered 202 and not stored") {
    Rig rig;
    auto pending = rig.call("POST", "/link", linkBody("@mod:hs.test", "libera/#ask"));
    CHECK(pending.status == 202);
    CHECK(bodyOf(pending)["pending"] == true);
    CHECK(bodyOf(pending)["message"] == "Asked the ops of #ask on libera");
    CHECK(rig.stores.stores().links().all().empty());
}

TEST_CASE("bridge-defined extras are served behind the same secret") {
    Rig rig;
    rig.api.addExtra("POST", "/ping", [&](const ProvisioningRequest& req) {
        if (!req.user) return ProvisioningReply::error(400, "M_MISSING_PARAM", "user_id needed");
        auto power = rig.api.checkPower(*req.user, RoomId(req.body.value("room_id", "")));
        if (!power) return ProvisioningReply::error(403, "M_FORBIDDEN", power.error().message);
        return ProvisioningReply{200, {{"pong", req.user->str()}, {"q", req.query.at("q")}}};
    });
    auto ok = rig.call("POST", "/ping?q=a%20b", json{{"user_id", "@owner:hs.test"}, {"room_id", "!room:hs.test"}});
    CHECK(ok.status == 200);
    CHECK(bodyOf(ok) == json{{"pong", "@owner:hs.test"}, {"q", "a b"}});
    CHECK(rig.call("POST", "/ping?q=", json{{"user_id", "@nobody:hs.test"}, {"room_id", "!room:hs.test"}}).status == 403);
    CHECK(rig.call("GET", "/ping").status == 405);
    CHECK(rig.call("POST", "/ping", nullptr, {}).status == 401);
}

namespace {
struct NoQueries final : QueryService {
    bool queryUser(const std::string&) override { return false; }
    bool queryAlias(const std::string&) override { return false; }
    std::optional<json> thirdpartyProtocol(const std::string&) override { return std::nullopt; }
    json thirdpartyQuery(const std::string&, const std::string&, const std::map<std::string, std::string>&) override {
        return json::array();
    }
    std::string healthProblem() override { return ""; }
};
}  // namespace

TEST_CASE("on the appservice listener, provisioning paths go to the API and the rest is unchanged") {
    Rig rig;
    NoQueries queries;
    AppserviceApi as(AppserviceApiOptions{Secret<std::string>("hs-token"), false}, rig.stores.journal(), queries,
                     rig.metrics);
    HttpServer server(as, 1);
    server.listen("127.0.0.1", 0);
    HttpClient client(server.port());
    // Before the hook is set, provisioning paths are unknown like any other.
    CHECK(client.request("GET", kPrefix + "/bridge", kAuth).status == 404);
    as.setProvisioning(&rig.api);
    auto info = client.request("GET", kPrefix + "/bridge", kAuth);
    CHECK(info.status == 200);
    CHECK(bodyOf(info)["name"] == "irc");
    CHECK(client.request("GET", kPrefix + "/bridge", {{"Authorization", "Bearer hs-token"}}).status == 403);
    // The AS routes still want the hs_token, not the provisioning secret.
    CHECK(client.request("GET", "/_matrix/app/v1/users/%40x%3Ahs.test", kAuth).status == 403);
    CHECK(client.request("GET", "/_matrix/app/v1/users/%40x%3Ahs.test",
                         {{"Authorization", "Bearer hs-token"}}).status == 404);
    CHECK(client.request("GET", "/_mxbridge/provisioning", kAuth).status == 404);
    server.stop(std::chrono::milliseconds(500));
}

TEST_CASE("on the appservice listener, a chunked provisioning body over the provisioning limit is refused with 413 as it is read, and nothing is linked") {
    Rig rig;
    NoQueries queries;
    // The appservice listener's own limit (64 MiB) is far above the provisioning API's 64 KiB.
    AppserviceApi as(AppserviceApiOptions{Secret<std::string>("hs-token"), false}, rig.stores.journal(), queries,
                     rig.metrics);
    as.setProvisioning(&rig.api);
    HttpServer server(as, 1);
    server.listen("127.0.0.1", 0);

    // A valid link request, padded to 4 MB, sent chunked: no Content-Length to check.
    test::RawConnection raw(server.port());
    raw.send("POST " + kPrefix + "/link HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kSecret +
             "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto chunk = [](const std::string& data) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx", data.size());
        return std::string(size) + "\r\n" + data + "\r\n";
    };
    std::string head = linkBody("@mod:hs.test").dump();
    head.pop_back();  // reopen the object for the padding
    raw.send(chunk(head + R"(,"pad":[1)"));
    std::string padding;
    for (int i = 0; i < 8 * 1024; ++i) padding += ",1";
    std::string received;
    size_t sent = 0;
    for (int i = 0; i < 256 && received.empty(); ++i) {  // 256 x 16 KB = 4 MB
        sent += raw.send(chunk(padding));
        received = raw.receive(std::chrono::milliseconds(1));
    }
    if (received.empty()) {
        raw.send(chunk("]}") + "0\r\n\r\n");
        received = raw.receive(std::chrono::seconds(5));
    }
    INFO("sent " << sent << " bytes of padding; received: " << received.substr(0, 300));
    CHECK(received.rfind("HTTP/1.1 413 ", 0) == 0);
    CHECK(received.find("provisioning body limit") != std::string::npos);
    CHECK(sent < 1024 * 1024);  // refused while reading, not after taking it all
    CHECK(rig.stores.stores().links().all().empty());
    server.stop(std::chrono::milliseconds(500));
}
