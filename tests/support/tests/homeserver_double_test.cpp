// HomeserverDouble over real HTTP: cpprest as the appservice's client, TestHttpServer as the
// appservice's listener.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>

#include <cpprest/http_client.h>

#include "homeserver_double.h"

namespace mxbridge::test {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Reply {
    int status = 0;
    json body;
};

// One request as the appservice would send it; `target` is already percent-encoded.
Reply call(const HomeserverDouble& hs, const std::string& method, const std::string& target,
           const std::optional<json>& body = std::nullopt, const std::string& token = "as_token_for_tests",
           const std::string& rawBody = "") {
    web::http::client::http_client client(utility::conversions::to_string_t(hs.url()));
    web::http::http_request req(utility::conversions::to_string_t(method));
    req.set_request_uri(utility::conversions::to_string_t(target));
    if (!token.empty()) req.headers().add(U("Authorization"), utility::conversions::to_string_t("Bearer " + token));
    if (body) req.set_body(body->dump(), "application/json");
    else if (!rawBody.empty()) req.set_body(rawBody, "application/json");
    auto res = client.request(req).get();
    Reply out;
    out.status = res.status_code();
    out.body = json::parse(res.extract_utf8string(true).get(), nullptr, false);
    return out;
}

std::string enc(const std::string& s) { return percentEncode(s); }

// A stand-in appservice that answers transactions and pings; can be told to fail.
struct FakeAppservice {
    std::mutex mutex;
    std::vector<HttpRequest> received;
    std::vector<std::chrono::steady_clock::time_point> times;
    std::atomic<int> failNext{0};
    std::atomic<bool> omitLength{false};
    TestHttpServer server{[this](const HttpRequest& r) {
        {
            std::lock_guard lock(mutex);
            received.push_back(r);
            times.push_back(std::chrono::steady_clock::now());
        }
        if (failNext > 0) {
            --failNext;
            return HttpResponse::error(500, "M_UNKNOWN", "failing on purpose");
        }
        auto res = HttpResponse::json(200, json::object());
        res.omitContentLength = omitLength;
        return res;
    }};
    std::size_t count() {
        std::lock_guard lock(mutex);
        return received.size();
    }
};

HomeserverConfig fastConfig(const std::string& asUrl = "") {
    HomeserverConfig c;
    c.appserviceUrl = asUrl;
    c.retryInitial = 50ms;
    c.retryMax = 400ms;
    return c;
}

}  // namespace

TEST_CASE("versions and whoami answer, whoami honours identity assertion") {
    HomeserverDouble hs(fastConfig());
    auto versions = call(hs, "GET", "/_matrix/client/versions", std::nullopt, "");
    CHECK(versions.status == 200);
    CHECK(versions.body["versions"].size() >= 12);
    CHECK(call(hs, "GET", "/_matrix/client/v3/account/whoami").body["user_id"] == "@bridgebot:example.org");
    CHECK(call(hs, "POST", "/_matrix/client/v3/register",
               json{{"type", "m.login.application_service"}, {"username", "_bridge_bob"}, {"inhibit_login", true}})
              .status == 200);
    auto who = call(hs, "GET", "/_matrix/client/v3/account/whoami?user_id=" + enc("@_bridge_bob:example.org"));
    CHECK(who.body["user_id"] == "@_bridge_bob:example.org");
    CHECK(hs.specViolations().empty());
}

TEST_CASE("register, join, send: the message lands in the timeline and reaches the appservice") {
    FakeAppservice as;
    HomeserverDouble hs(fastConfig(as.server.url()));
    const std::string room = hs.createRoom("@alice:example.org", json{{"preset", "public_chat"}, {"name", "Lobby"}});

    auto reg = call(hs, "POST", "/_matrix/client/v3/register",
                    json{{"type", "m.login.application_service"}, {"username", "_bridge_carol"}});
    REQUIRE(reg.status == 200);
    CHECK(reg.body["user_id"] == "@_bridge_carol:example.org");
    CHECK(reg.body.contains("access_token"));
    CHECK(call(hs, "POST", "/_matrix/client/v3/register",
               json{{"type", "m.login.application_service"}, {"username", "_bridge_carol"}})
              .body["errcode"] == "M_USER_IN_USE");
    CHECK(call(hs, "POST", "/_matrix/client/v3/register",
               json{{"type", "m.login.application_service"}, {"username", "mallory"}})
              .body["errcode"] == "M_EXCLUSIVE");

    const std::string asCarol = "?user_id=" + enc("@_bridge_carol:example.org");
    auto join = call(hs, "POST", "/_matrix/client/v3/join/" + enc(room) + asCarol, json::object());
    REQUIRE(join.status == 200);
    CHECK(hs.members(room).at("@_bridge_carol:example.org") == "join");

    const std::string sendPath = "/_matrix/client/v3/rooms/" + enc(room) + "/send/m.room.message/txn1" + asCarol;
    auto sent = call(hs, "PUT", sendPath, json{{"msgtype", "m.text"}, {"body", "hello"}});
    REQUIRE(sent.status == 200);
    auto again = call(hs, "PUT", sendPath, json{{"msgtype", "m.text"}, {"body", "hello"}});
    CHECK(again.body["event_id"] == sent.body["event_id"]);  // txnId is idempotent

    auto tl = hs.timeline(room);
    CHECK(tl.back()["event_id"] == sent.body["event_id"]);
    CHECK(tl.back()["sender"] == "@_bridge_carol:example.org");
    CHECK(tl.back()["content"]["body"] == "hello");

    const std::string fromAlice = hs.sendAsUser(room, "@alice:example.org", json{{"msgtype", "m.text"}, {"body", "hi"}});
    REQUIRE(hs.waitForDelivery(3s));
    bool echoed = false, seenAlice = false;
    for (const auto& t : hs.deliveredTransactions()) {
        for (const auto& ev : t.body["events"]) {
            echoed = echoed || ev["event_id"] == sent.body["event_id"];
            seenAlice = seenAlice || ev["event_id"] == fromAlice;
        }
    }
    CHECK(echoed);
    CHECK(seenAlice);
    auto joined = call(hs, "GET", "/_matrix/client/v3/rooms/" + enc(room) + "/joined_members" + asCarol);
    CHECK(joined.body["joined"].contains("@_bridge_carol:example.org"));
    CHECK(hs.specViolations().empty());
}

TEST_CASE("the double refuses sends without auth, with a wrong token, outside the namespace, or malformed") {
    HomeserverDouble hs(fastConfig());
    const std::string room = hs.createRoom("@bridgebot:example.org");
    const std::string path = "/_matrix/client/v3/rooms/" + enc(room) + "/send/m.room.message/t";
    const json msg{{"msgtype", "m.text"}, {"body", "x"}};

    auto noAuth = call(hs, "PUT", path + "1", msg, "");
    CHECK(noAuth.status == 401);
    CHECK(noAuth.body["errcode"] == "M_MISSING_TOKEN");
    CHECK(hs.specViolations().size() == 1);

    auto wrong = call(hs, "PUT", path + "2", msg, "not_the_token");
    CHECK(wrong.status == 401);
    CHECK(wrong.body["errcode"] == "M_UNKNOWN_TOKEN");

    auto outside = call(hs, "PUT", path + "3?user_id=" + enc("@alice:example.org"), msg);
    CHECK(outside.status == 403);
    CHECK(outside.body["errcode"] == "M_FORBIDDEN");

    auto unregistered = call(hs, "PUT", path + "4?user_id=" + enc("@_bridge_nobody:example.org"), msg);
    CHECK(unregistered.status == 403);

    auto malformed = call(hs, "PUT", path + "5", std::nullopt, "as_token_for_tests", "{not json");
    CHECK(malformed.status == 400);
    CHECK(malformed.body["errcode"] == "M_NOT_JSON");

    auto badShape = call(hs, "PUT", "/_matrix/client/v3/rooms/" + enc(room) + "/typing/" + enc("@bridgebot:example.org"),
                         json{{"typing", "yes"}});
    CHECK(badShape.status == 400);
    CHECK(badShape.body["errcode"] == "M_BAD_JSON");

    auto unknown = call(hs, "GET", "/_matrix/client/v3/no/such/endpoint");
    CHECK(unknown.status == 404);
    CHECK(unknown.body["errcode"] == "M_UNRECOGNIZED");
    CHECK(hs.specViolations().size() == 4);  // no auth, bad JSON, bad shape, unknown path

    auto ok = call(hs, "PUT", path + "6", msg);
    CHECK(ok.status == 200);
}

TEST_CASE("joining needs an invite unless the room is public; kick and ban follow power levels") {
    HomeserverDouble hs(fastConfig());
    call(hs, "POST", "/_matrix/client/v3/register", json{{"type", "m.login.application_service"}, {"username", "_bridge_g"}});
    const std::string asGhost = "?user_id=" + enc("@_bridge_g:example.org");
    const std::string room = hs.createRoom("@alice:example.org", json{{"preset", "private_chat"}});
    CHECK(call(hs, "POST", "/_matrix/client/v3/rooms/" + enc(room) + "/join" + asGhost, json::object()).status == 403);
    hs.forceJoin(room, "@bridgebot:example.org");
    hs.injectEvent(json{{"room_id", room}, {"sender", "@alice:example.org"}, {"type", "m.room.member"},
                        {"state_key", "@bridgebot:example.org"}, {"content", {{"membership", "join"}}}});
    CHECK(call(hs, "POST", "/_matrix/client/v3/rooms/" + enc(room) + "/invite", json{{"user_id", "@_bridge_g:example.org"}}).status == 200);
    CHECK(call(hs, "POST", "/_matrix/client/v3/rooms/" + enc(room) + "/join" + asGhost, json::object()).status == 200);
    auto kick = call(hs, "POST", "/_matrix/client/v3/rooms/" + enc(room) + "/kick", json{{"user_id", "@_bridge_g:example.org"}});
    CHECK(kick.status == 403);  // the bot has power level 0
    CHECK(call(hs, "POST", "/_matrix/client/v3/rooms/" + enc(room) + "/leave" + asGhost, json::object()).status == 200);
    CHECK(hs.members(room).at("@_bridge_g:example.org") == "leave");
    CHECK(hs.specViolations().empty());
}

TEST_CASE("aliases, state, redaction, profile, presence, typing, receipts and media") {
    HomeserverDouble hs(fastConfig());
    auto created = call(hs, "POST", "/_matrix/client/v3/createRoom",
                        json{{"room_alias_name", "bridged"}, {"name", "N"}, {"topic", "T"},
                             {"initial_state", {{{"type", "m.room.guest_access"}, {"state_key", ""}, {"content", {{"guest_access", "forbidden"}}}}}}});
    REQUIRE(created.status == 200);
    const std::string room = created.body["room_id"];
    const std::string r = "/_matrix/client/v3/rooms/" + enc(room);
    CHECK(call(hs, "GET", "/_matrix/client/v3/directory/room/" + enc("#bridged:example.org")).body["room_id"] == room);
    CHECK(call(hs, "PUT", "/_matrix/client/v3/directory/room/" + enc("#other:example.org"), json{{"room_id", room}}).status == 200);
    CHECK(hs.roomForAlias("#other:example.org") == room);
    CHECK(call(hs, "GET", "/_matrix/client/v3/directory/room/" + enc("#nope:example.org")).status == 404);

    CHECK(call(hs, "GET", r + "/state/m.room.topic/").body["topic"] == "T");
    CHECK(call(hs, "PUT", r + "/state/m.room.topic/", json{{"topic", "T2"}}).status == 200);
    CHECK(hs.stateContent(room, "m.room.topic")->at("topic") == "T2");
    CHECK(call(hs, "GET", r + "/state/m.room.guest_access").body["guest_access"] == "forbidden");

    auto sent = call(hs, "PUT", r + "/send/m.room.message/a", json{{"msgtype", "m.text"}, {"body", "oops"}});
    auto redaction = call(hs, "PUT", r + "/redact/" + enc(sent.body["event_id"].get<std::string>()) + "/b", json{{"reason", "typo"}});
    CHECK(redaction.status == 200);
    CHECK(hs.timeline(room).back()["type"] == "m.room.redaction");

    const std::string bot = enc("@bridgebot:example.org");
    CHECK(call(hs, "PUT", "/_matrix/client/v3/profile/" + bot + "/displayname", json{{"displayname", "Bridge Bot"}}).status == 200);
    CHECK(hs.profile("@bridgebot:example.org").displayname == "Bridge Bot");
    CHECK(call(hs, "GET", "/_matrix/client/v3/profile/" + bot).body["displayname"] == "Bridge Bot");
    CHECK(call(hs, "PUT", "/_matrix/client/v3/presence/" + bot + "/status", json{{"presence", "online"}}).status == 200);
    CHECK(hs.presence("@bridgebot:example.org")->at("presence") == "online");
    CHECK(call(hs, "PUT", r + "/typing/" + bot, json{{"typing", true}, {"timeout", 3000}}).status == 200);
    CHECK(hs.typing(room) == std::vector<std::string>{"@bridgebot:example.org"});
    CHECK(call(hs, "POST", r + "/receipt/m.read/" + enc(sent.body["event_id"].get<std::string>()), json::object()).status == 200);
    CHECK(hs.receipts().size() == 1);

    web::http::client::http_client client(hs.url());
    web::http::http_request up(web::http::methods::POST);
    up.set_request_uri("/_matrix/media/v3/upload?filename=a.txt");
    up.headers().add("Authorization", "Bearer as_token_for_tests");
    up.set_body(std::string("hello bytes"), "text/plain");
    auto upRes = client.request(up).get();
    REQUIRE(upRes.status_code() == 200);
    const std::string mxc = json::parse(upRes.extract_utf8string(true).get())["content_uri"];
    CHECK(hs.media(mxc) == "hello bytes");
    web::http::http_request down(web::http::methods::GET);
    down.set_request_uri("/_matrix/client/v1/media/download/" + mxc.substr(6));
    down.headers().add("Authorization", "Bearer as_token_for_tests");
    auto downRes = client.request(down).get();
    CHECK(downRes.status_code() == 200);
    CHECK(downRes.extract_utf8string(true).get() == "hello bytes");
    CHECK(hs.specViolations().empty());
}

TEST_CASE("the appservice ping round trip, and its errors") {
    FakeAppservice as;
    HomeserverDouble hs(fastConfig(as.server.url()));
    auto ping = call(hs, "POST", "/_matrix/client/v1/appservice/mxbridge/ping", json{{"transaction_id", "meow"}});
    CHECK(ping.status == 200);
    CHECK(ping.body.contains("duration_ms"));
    REQUIRE(as.count() == 1);
    CHECK(as.received[0].path == "/_matrix/app/v1/ping");
    CHECK(as.received[0].headers["authorization"] == "Bearer hs_token_for_tests");
    CHECK(json::parse(as.received[0].body)["transaction_id"] == "meow");

    CHECK(call(hs, "POST", "/_matrix/client/v1/appservice/other/ping", json::object()).body["errcode"] == "M_FORBIDDEN");
    as.failNext = 1;
    auto bad = call(hs, "POST", "/_matrix/client/v1/appservice/mxbridge/ping", json::object());
    CHECK(bad.status == 502);
    CHECK(bad.body["errcode"] == "M_BAD_STATUS");
    CHECK(bad.body["status"] == 500);
    as.server.stopListening();
    auto down = call(hs, "POST", "/_matrix/client/v1/appservice/mxbridge/ping", json::object());
    CHECK(down.status == 502);
    CHECK(down.body["errcode"] == "M_CONNECTION_FAILED");
    hs.setAppserviceUrl("");
    CHECK(call(hs, "POST", "/_matrix/client/v1/appservice/mxbridge/ping", json::object()).body["errcode"] == "M_URL_NOT_SET");
    CHECK(hs.specViolations().empty());
}

TEST_CASE("the pusher numbers transactions from 1, one in flight, retrying with back-off") {
    FakeAppservice as;
    as.failNext = 3;
    HomeserverDouble hs(fastConfig(as.server.url()));
    const std::string room = hs.createRoom("@alice:example.org");
    hs.forceJoin(room, "@bridgebot:example.org");
    REQUIRE(hs.waitFor([&] { return hs.deliveredTransactions().size() == 1; }, 5s));
    hs.sendAsUser(room, "@alice:example.org", json{{"msgtype", "m.text"}, {"body", "second"}});
    REQUIRE(hs.waitFor([&] { return hs.deliveredTransactions().size() == 2; }, 5s));

    auto attempts = hs.pushAttempts();
    REQUIRE(attempts.size() == 5);
    for (int i = 0; i < 4; ++i) CHECK(attempts[i].txnId == "1");
    CHECK(attempts[4].txnId == "2");
    CHECK_FALSE(attempts[0].ok);
    CHECK(attempts[3].ok);
    // Gaps between retries grow: ~50, ~100, ~200 ms.
    auto gap = [&](int i) { return std::chrono::duration_cast<std::chrono::milliseconds>(as.times[i + 1] - as.times[i]).count(); };
    CHECK(gap(0) >= 45);
    CHECK(gap(1) >= 95);
    CHECK(gap(2) >= 195);
    CHECK(gap(2) > gap(0));
    std::lock_guard lock(as.mutex);
    CHECK(as.received[0].path == "/_matrix/app/v1/transactions/1");
    CHECK(as.received[0].headers["authorization"] == "Bearer hs_token_for_tests");
    // Alice's room only concerns the appservice from the bot's join on.
    const json first = json::parse(as.received[0].body)["events"];
    REQUIRE(first.size() == 1);
    CHECK(first[0]["state_key"] == "@bridgebot:example.org");
}

TEST_CASE("an answer without Content-Length is a failure; restartTxnIds and legacyPaths") {
    FakeAppservice as;
    as.omitLength = true;
    auto config = fastConfig(as.server.url());
    config.legacyPaths = true;
    HomeserverDouble hs(config);
    hs.pushTransaction(json{{"events", json::array()}});
    REQUIRE(hs.waitFor([&] { return hs.pushAttempts().size() >= 2; }, 3s));
    CHECK(hs.pushAttempts()[0].error == "answer without Content-Length");
    as.omitLength = false;
    REQUIRE(hs.waitFor([&] { return hs.deliveredTransactions().size() == 1; }, 3s));
    hs.restartTxnIds();
    hs.pushTransaction(json{{"events", json::array()}});
    REQUIRE(hs.waitFor([&] { return hs.deliveredTransactions().size() == 2; }, 3s));
    CHECK(hs.deliveredTransactions()[1].txnId == "1");
    std::lock_guard lock(as.mutex);
    CHECK(as.received.back().path == "/transactions/1");
    CHECK(as.received.back().query.at("access_token") == "hs_token_for_tests");
    CHECK(as.received.back().headers.count("authorization") == 0);
    CHECK(call(hs, "POST", "/_matrix/client/v1/appservice/mxbridge/ping", json::object()).status == 404);
}

TEST_CASE("fault modes: goDown, 429 with retry_after_ms, injected 500, latency") {
    HomeserverDouble hs(fastConfig());
    hs.rateLimitNext(1, 250);
    auto limited = call(hs, "GET", "/_matrix/client/v3/account/whoami");
    CHECK(limited.status == 429);
    CHECK(limited.body["errcode"] == "M_LIMIT_EXCEEDED");
    CHECK(limited.body["retry_after_ms"] == 250);
    hs.failNext(2, 502);
    CHECK(call(hs, "GET", "/_matrix/client/v3/account/whoami").status == 502);
    CHECK(call(hs, "GET", "/_matrix/client/v3/account/whoami").status == 502);
    CHECK(call(hs, "GET", "/_matrix/client/v3/account/whoami").status == 200);

    hs.goDown(300ms);
    auto down = httpCall(hs.url(), "GET", "/_matrix/client/versions", {}, "", 1s);
    CHECK_FALSE(down.connected);
    REQUIRE(hs.waitFor([&] { return httpCall(hs.url(), "GET", "/_matrix/client/versions", {}, "", 1s).status == 200; }, 3s));

    hs.setLatency(100ms);
    const auto start = std::chrono::steady_clock::now();
    CHECK(call(hs, "GET", "/_matrix/client/versions", std::nullopt, "").status == 200);
    CHECK(std::chrono::steady_clock::now() - start >= 100ms);
    CHECK(hs.specViolations().empty());
}

}  // namespace mxbridge::test
