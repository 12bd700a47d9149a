// What the bridge's HTTP side does with requests that are unauthenticated, malformed, oversized,
// legacy or hostile: the right spec error, nothing half-applied, and service goes on.
#include <doctest/doctest.h>

#include <thread>

#include "bridge_process.h"
#include "harness_error.h"
#include "raw_connection.h"
#include "test_checks.h"

namespace mxbridge::test {

using nlohmann::json;

namespace {

std::string txnBody(const std::vector<json>& events) { return json{{"events", events}}.dump(); }

std::string rawPut(const std::string& target, std::size_t contentLength, const std::string& body,
                   const std::string& contentType = "application/json") {
    return "PUT " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kHsToken +
           "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + std::to_string(contentLength) +
           "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("a transaction without a token is refused with 401 M_MISSING_TOKEN and a wrong one with 403 M_FORBIDDEN") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    std::string body = txnBody({timelineEvent("$unauth", "!a:hs.test", "@alice:hs.test")});

    AsResponse missing = client.put(transactionPath("1"), body, {{"Content-Type", "application/json"}});
    CHECK(missing.status == 401);
    CHECK(errcodeOf(missing) == "M_MISSING_TOKEN");
    AsResponse wrong = putTransaction(client, "1", body, bearer("not_the_hs_token"));
    CHECK(wrong.status == 403);
    CHECK(errcodeOf(wrong) == "M_FORBIDDEN");
    // The as_token is the bridge's own credential, not the homeserver's.
    CHECK(putTransaction(client, "1", body, bearer(kAsToken)).status == 403);
    AsResponse notBearer = client.put(transactionPath("1"), body, {{"Authorization", std::string("Basic ") + kHsToken}});
    CHECK(notBearer.status == 403);

    // The query endpoints answer the same, in the spec's error shape.
    AsResponse userMissing = client.get("/_matrix/app/v1/users/" + percentEncode("@probe_known1:hs.test"));
    CHECK(userMissing.status == 401);
    CHECK(responseProblems("queryUserById", userMissing).empty());
    AsResponse userWrong = client.get("/_matrix/app/v1/users/" + percentEncode("@probe_known1:hs.test"), bearer("nope"));
    CHECK(userWrong.status == 403);
    CHECK(responseProblems("queryUserById", userWrong).empty());
    CHECK_FALSE(env.hs->isRegistered("@probe_known1:hs.test"));

    // A correct token afterwards: the refused attempts left nothing behind.
    CHECK(putTransaction(client, "1", body).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$unauth") == 1; }));
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a query-string token is refused unless appservice.allow_query_token is set, and the log says so") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    std::string body = txnBody({timelineEvent("$query", "!q:hs.test", "@alice:hs.test")});
    AsResponse refused = client.put(transactionPath("1") + "?access_token=" + kHsToken, body);
    CHECK(refused.status == 401);
    CHECK(errcodeOf(refused) == "M_MISSING_TOKEN");
    CHECK_NOTHROW(env.bridge->process().waitForLine("appservice\\.allow_query_token: true", 5s));
    CHECK(env.bridge->stop() == 0);
    CHECK(env.bridge->handledCount("$query") == 0);

    env.bridge->settings().allowQueryToken = true;
    env.bridge->startRunning();
    AsClient allowed(env.bridge->port());
    CHECK(allowed.put(transactionPath("1") + "?access_token=" + kHsToken, body).status == 200);
    CHECK(allowed.put(transactionPath("2") + "?access_token=wrong", body).status == 403);
    CHECK(eventually([&] { return env.bridge->handledCount("$query") == 1; }));
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a legacy homeserver using unprefixed paths and query tokens works end to end when allowed") {
    // FIELD-NOTES: Synapse 1.67 pushes to /transactions/{n} with only ?access_token=, no ping.
    BridgedHomeserver env(
        [](HomeserverConfig& c) {
            c.legacyPaths = true;
            c.versions = {"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"};
        },
        [](BridgeSettings& s) { s.allowQueryToken = true; });
    env.bridge->startRunning();
    const std::string alice = "@alice:hs.test";
    std::string room = env.hs->createRoom(alice);
    env.hs->forceJoin(room, "@probe_watcher:hs.test");
    std::string id = env.hs->sendAsUser(room, alice, {{"msgtype", "m.text"}, {"body", "old server"}});
    REQUIRE(env.hs->waitForDelivery(5s));
    for (const auto& t : env.hs->deliveredTransactions()) CHECK(t.target.rfind("/transactions/", 0) == 0);
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledCount(id) == 1; }));

    AsClient client(env.bridge->port());
    std::string token = std::string("?access_token=") + kHsToken;
    AsResponse user = client.get("/users/" + percentEncode("@probe_known7:hs.test") + token);
    CHECK(user.status == 200);
    CHECK(env.hs->isRegistered("@probe_known7:hs.test"));
    AsResponse alias = client.get("/rooms/" + percentEncode("#probe_knownlegacy:hs.test") + token);
    CHECK(alias.status == 200);
    CHECK(env.hs->roomForAlias("#probe_knownlegacy:hs.test").has_value());
    CHECK(client.get("/users/" + percentEncode("@probe_nobody:hs.test") + token).status == 404);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("malformed JSON is refused with 400 M_NOT_JSON, wrong shapes with 400 M_BAD_JSON, and nothing of them is applied") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string room = "!bad:hs.test";
    std::string good = txnBody({timelineEvent("$ok0", room, "@alice:hs.test"), timelineEvent("$ok1", room, "@alice:hs.test")});

    struct Case {
        const char* what;
        std::string body;
        const char* errcode;
    };
    const std::vector<Case> cases = {
        {"truncated", good.substr(0, good.size() - 10), "M_NOT_JSON"},
        {"not JSON at all", "events: yes", "M_NOT_JSON"},
        {"trailing garbage", good + "}", "M_NOT_JSON"},
        {"an array body", "[]", "M_BAD_JSON"},
        {"no events", R"({"ephemeral": []})", "M_BAD_JSON"},
        {"events not an array", R"({"events": {}})", "M_BAD_JSON"},
        {"a good event, then one without event_id",
         txnBody({timelineEvent("$ok0", room, "@alice:hs.test"),
                  json{{"type", "m.room.message"}, {"room_id", room}, {"sender", "@a:hs.test"}, {"content", json::object()}}}),
         "M_BAD_JSON"},
        {"a good event, then a type that is a number",
         txnBody({timelineEvent("$ok0", room, "@alice:hs.test"),
                  json{{"type", 5}, {"event_id", "$x"}, {"room_id", room}, {"sender", "@a:hs.test"}, {"content", json::object()}}}),
         "M_BAD_JSON"},
    };
    for (const auto& c : cases) {
        INFO("case: " << std::string(c.what));
        AsResponse r = putTransaction(client, "bad", c.body);
        CHECK(r.status == 400);
        CHECK(errcodeOf(r) == c.errcode);
    }
    // The same txn id with a good body is processed: the refusals were not remembered.
    CHECK(putTransaction(client, "bad", good).status == 200);
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledCount("$ok1") == 1; }));
    CHECK(env.bridge->handledLog(room) == std::vector<std::string>{"$ok0", "$ok1"});
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

// The ack path's on-demand parser skips `content`; the body is validated whole before it.
TEST_CASE("malformed JSON inside an event's content is refused with 400 M_NOT_JSON and not applied") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    const std::string room = "!badcontent:hs.test";
    for (const char* content : {R"({"body": nope})", R"({"body": "x" "y"})", R"({"body": tru})"}) {
        INFO("content " << content);
        std::string body = R"({"events":[{"event_id":"$badContent","room_id":"!badcontent:hs.test",)"
                           R"("sender":"@alice:hs.test","type":"m.room.message","content":)" +
                           std::string(content) + "}]}";
        AsResponse r = putTransaction(client, "badcontent", body);
        CHECK(r.status == 400);
        CHECK(errcodeOf(r) == "M_NOT_JSON");
    }
    CHECK(putTransaction(client, "marker", txnBody({timelineEvent("$afterBadContent", room, "@alice:hs.test")})).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$afterBadContent") == 1; }));
    CHECK(env.bridge->handledCount("$badContent") == 0);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("bodies over appservice.max_body_bytes are refused with 413 and not applied") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.maxBodyBytes = 4096; });
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    std::string big = txnBody({timelineEvent("$big", "!big:hs.test", "@alice:hs.test", std::string(8000, 'x'))});
    AsResponse r = putTransaction(client, "big", big);
    CHECK(r.status == 413);
    CHECK(errcodeOf(r) == "M_TOO_LARGE");
    std::string small = txnBody({timelineEvent("$small", "!big:hs.test", "@alice:hs.test")});
    AsClient fresh(env.bridge->port());
    CHECK(putTransaction(fresh, "small", small).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$small") == 1; }));
    CHECK(env.bridge->handledCount("$big") == 0);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("unknown paths get 404 M_UNRECOGNIZED and known paths with the wrong method get 405") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    AsClient client(env.bridge->port());
    for (const char* path : {"/_matrix/app/v1/nothing", "/_matrix/app/v1/transactions", "/_matrix/app/v1/transactions/1/extra",
                             "/", "/_matrix/client/versions"}) {
        INFO("path " << path);
        AsResponse r = client.get(path, bearer());
        CHECK(r.status == 404);
        CHECK(errcodeOf(r) == "M_UNRECOGNIZED");
    }
    AsResponse post = client.request("POST", transactionPath("1"), bearer(), txnBody({}));
    CHECK(post.status == 405);
    CHECK(errcodeOf(post) == "M_UNRECOGNIZED");
    CHECK(client.get(transactionPath("1"), bearer()).status == 405);
    CHECK(client.request("DELETE", "/_matrix/app/v1/users/" + percentEncode("@probe_x:hs.test"), bearer()).status == 405);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("the token is checked before the body is read: an unauthenticated 6 MB upload is refused at once") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    std::string huge = R"({"events":[{"event_id":"$huge","room_id":"!h:hs.test","sender":"@a:hs.test","type":"m.room.message","content":{"body":")" +
                       std::string(6 * 1024 * 1024, 'x') + R"("}}]})";
    for (auto [headers, status] : {std::pair{AsHeaders{{"Content-Type", "application/json"}}, 401},
                                   std::pair{bearer("wrong_token"), 403}}) {
        AsClient client(env.bridge->port(), false);
        AsResponse r = client.put(transactionPath("huge"), huge, headers, 10s);
        INFO("expected " << status << "; sent " << r.bytesSent << " of " << huge.size() << " bytes in "
                         << r.elapsed.count() << " us; write error: " << r.writeError);
        CHECK(r.status == status);
        // Refused from the headers: the answer came before the body was taken, or at least at once.
        CHECK((!r.requestFullySent || r.elapsed < 500ms));
    }
    AsClient client(env.bridge->port());
    CHECK(putTransaction(client, "after", txnBody({timelineEvent("$afterHuge", "!h:hs.test", "@a:hs.test")})).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$afterHuge") == 1; }));
    CHECK(env.bridge->handledCount("$huge") == 0);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a hostile mix of stalled, truncated, invalid and deeply nested requests does not stop the bridge serving others") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::string room = "!hostile:hs.test";
    std::string victim = txnBody({timelineEvent("$hostile", room, "@alice:hs.test")});

    // Half a request, then silence: holds a connection open for the rest of the test.
    RawConnection stalled(env.bridge->port());
    stalled.send(rawPut(transactionPath("stall"), victim.size(), victim.substr(0, victim.size() / 2)));

    // A body cut short by the peer closing its side.
    {
        RawConnection truncated(env.bridge->port());
        truncated.send(rawPut(transactionPath("cut"), victim.size(), victim.substr(0, victim.size() - 5)));
        truncated.shutdownWrite();
        std::string answer = truncated.receive(2s);
        CHECK(answer.find(" 200 ") == std::string::npos);
    }
    AsClient client(env.bridge->port(), false);
    // Invalid UTF-8 inside a string.
    std::string badUtf8 = victim;
    badUtf8.replace(badUtf8.find("hello"), 5, "he\xff\xfe\xc0o");
    AsResponse utf = putTransaction(client, "utf8", badUtf8);
    CHECK(utf.status == 400);
    CHECK(errcodeOf(utf) == "M_NOT_JSON");
    // Nesting far beyond any real event, inside content and at the top level.
    // Deep nesting is valid JSON where the bridge skips it (content, unknown keys), so 200 is
    // a fair answer there; what matters is an answer and no stack overflow.
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    std::string nestedContent = txnBody({timelineEvent("$deep", room, "@alice:hs.test")});
    nestedContent.replace(nestedContent.find("\"hello\""), 7, deep);
    int deep1 = putTransaction(client, "deep1", nestedContent).status;
    CHECK((deep1 == 200 || deep1 == 400));
    int deep2 = putTransaction(client, "deep2", R"({"events":[],"x":)" + deep + "}").status;
    CHECK((deep2 == 200 || deep2 == 400));
    CHECK(putTransaction(client, "deep3", std::string(200000, '{')).status == 400);
    CHECK(putTransaction(client, "deep4", R"({"events":)" + std::string(100000, '[')).status == 400);
    // Not JSON as declared: whatever the verdict, an answer and no crash.
    AsResponse text = putTransaction(client, "text", "just words", {{"Authorization", std::string("Bearer ") + kHsToken}, {"Content-Type", "text/plain"}});
    CHECK(text.status == 400);
    AsResponse form = client.put(transactionPath("form"), "a=b", {{"Authorization", std::string("Bearer ") + kHsToken}, {"Content-Type", "application/x-www-form-urlencoded"}});
    CHECK(form.status >= 400);
    CHECK(form.status < 500);
    // Garbage instead of HTTP.
    {
        RawConnection garbage(env.bridge->port());
        garbage.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(300, '\0'));
        std::string answer = garbage.receive(2s);
        CHECK(answer.find(" 200 ") == std::string::npos);
    }

    // Meanwhile a well-formed transaction is acked promptly and handled once.
    AsClient good(env.bridge->port());
    AsResponse ok = putTransaction(good, "good", victim);
    CHECK(ok.status == 200);
    CHECK(ok.elapsed < 2s);
    INFO(env.bridge->lastLines());
    CHECK(eventually([&] { return env.bridge->handledCount("$hostile") == 1; }));
    CHECK(good.get("/health").status == 200);
    stalled.close();
    CHECK(env.bridge->running());
    CHECK(env.bridge->stop() == 0);
    CHECK(env.bridge->handledCount("$hostile") == 1);
    checkNoSpecViolations(*env.hs);
}

}  // namespace mxbridge::test

namespace mxbridge::test {

namespace {

// The HTTP status lines in whatever a raw connection received.
std::vector<std::string> statusLines(const std::string& received) {
    std::vector<std::string> lines;
    for (size_t at = received.find("HTTP/1."); at != std::string::npos; at = received.find("HTTP/1.", at + 1)) {
        lines.push_back(received.substr(at, received.find("\r\n", at) - at));
    }
    return lines;
}

std::string chunkedPut(const std::string& target, const std::string& transferEncoding,
                       const std::string& afterHeader) {
    return "PUT " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kHsToken +
           "\r\nContent-Type: application/json\r\nTransfer-Encoding: " + transferEncoding + "\r\n\r\n" + afterHeader;
}

}  // namespace

TEST_CASE("a Transfer-Encoding other than plain chunked is answered 400 and the connection closed, so a GET /metrics smuggled in its body is never answered") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::string smuggled = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // A front end that reads the body by the coding (to the end of the connection, say)
    // passes the smuggled request on as this one's body: the bridge must never take it for
    // a request of its own.
    for (const std::string coding : {"xchunked", "identity", "gzip", "chunked, identity", "chunked, chunked"}) {
        INFO("Transfer-Encoding: " << coding);
        RawConnection raw(env.bridge->port());
        raw.send(chunkedPut(transactionPath("te"), coding, smuggled));
        std::string received = raw.receive(3s);
        auto statuses = statusLines(received);
        REQUIRE(statuses.size() == 1);
        CHECK(statuses[0].find(" 400 ") != std::string::npos);
        CHECK(received.find("mxbridge_") == std::string::npos);  // no metrics in any answer
    }
    {
        // Two Transfer-Encoding fields, each a plausible one.
        RawConnection raw(env.bridge->port());
        raw.send("PUT " + transactionPath("te2") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                 kHsToken + "\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
        auto statuses = statusLines(raw.receive(3s));
        REQUIRE(statuses.size() == 1);
        CHECK(statuses[0].find(" 400 ") != std::string::npos);
    }
    // Plain chunked is HTTP/1.1 as it should be: accepted.
    std::string body = txnBody({timelineEvent("$chunked", "!te:hs.test", "@alice:hs.test")});
    RawConnection good(env.bridge->port());
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    good.send(chunkedPut(transactionPath("chunked"), "chunked", std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n"));
    auto statuses = statusLines(good.receive(1s));
    REQUIRE(statuses.size() == 1);
    CHECK(statuses[0].find(" 200 ") != std::string::npos);
    CHECK(eventually([&] { return env.bridge->handledCount("$chunked") == 1; }));
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a bad chunk size, an over-long chunk, a missing CRLF, a negative size and a body cut short are answered 400, not closed in silence") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    std::string body = txnBody({timelineEvent("$badchunk", "!chunks:hs.test", "@alice:hs.test")});
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    const std::string hex(size);
    struct Case {
        const char* what;
        std::string request;
    };
    const std::vector<Case> cases = {
        {"chunk size not hex", chunkedPut(transactionPath("c1"), "chunked", "zz\r\n" + body + "\r\n0\r\n\r\n")},
        {"negative chunk size", chunkedPut(transactionPath("c2"), "chunked", "-5\r\nhello\r\n0\r\n\r\n")},
        {"chunk longer than its size", chunkedPut(transactionPath("c3"), "chunked", "5\r\n" + body + "\r\n0\r\n\r\n")},
        {"no CRLF after the chunk", chunkedPut(transactionPath("c4"), "chunked", hex + "\r\n" + body + "0\r\n\r\n")},
        {"chunk size overflowing 64 bits", chunkedPut(transactionPath("c5"), "chunked", "1ffffffffffffffff\r\nx\r\n0\r\n\r\n")},
        {"chunked body cut short", chunkedPut(transactionPath("c6"), "chunked", hex + "\r\n" + body.substr(0, 10))},
        {"Content-Length body cut short", rawPut(transactionPath("c7"), body.size(), body.substr(0, body.size() / 2))},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        RawConnection raw(env.bridge->port());
        raw.send(c.request);
        raw.shutdownWrite();  // the peer is done: what it sent is all there is
        auto statuses = statusLines(raw.receive(3s));
        REQUIRE(statuses.size() == 1);
        CHECK(statuses[0].find(" 400 ") != std::string::npos);
    }
    AsClient client(env.bridge->port());
    CHECK(putTransaction(client, "after-chunks", body).status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$badchunk") == 1; }));
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("two Authorization headers are refused with 400, whichever of them is the right one") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    std::string body = txnBody({timelineEvent("$twoauth", "!auth:hs.test", "@alice:hs.test")});
    const std::string right = std::string("Bearer ") + kHsToken;
    for (auto [first, second] : {std::pair{right, std::string("Bearer wrong")}, std::pair{std::string("Bearer wrong"), right},
                                 std::pair{right, right}}) {
        INFO("first " << first << ", then " << second);
        RawConnection raw(env.bridge->port());  // an HTTP client library would send one of them
        raw.send("PUT " + transactionPath("twoauth") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + first +
                 "\r\nAuthorization: " + second + "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body);
        auto statuses = statusLines(raw.receive(3s));
        REQUIRE(statuses.size() == 1);
        CHECK(statuses[0].find(" 400 ") != std::string::npos);
    }
    CHECK(env.bridge->handledCount("$twoauth") == 0);
    CHECK(env.bridge->stop() == 0);
    CHECK(env.bridge->handledCount("$twoauth") == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("a flood of refused requests with 15 KB paths costs a few log lines, each path cut short") {
    BridgedHomeserver env;
    env.bridge->startRunning();
    const std::string longTail(15 * 1024, 'p');
    size_t before = env.bridge->output().size();
    for (int i = 0; i < 150; ++i) {
        AsClient client(env.bridge->port(), false);
        CHECK(client.get("/_matrix/app/v1/users/%40x" + longTail, bearer("wrong_token")).status == 403);
        AsClient missing(env.bridge->port(), false);
        CHECK(missing.get("/_matrix/app/v1/rooms/%23x" + longTail).status == 401);
    }
    // The refusals are still told, once each kind, with the path cut to a bounded length.
    CHECK_NOTHROW(env.bridge->process().waitForLine("wrong hs_token refused", 5s));
    CHECK_NOTHROW(env.bridge->process().waitForLine("without an access token refused", 5s));
    std::string logged = env.bridge->output().substr(before);
    INFO("logged " << logged.size() << " bytes for 300 refusals");
    CHECK(logged.size() < 8 * 1024);  // whole paths: 300 x 15 KB = 4.5 MB
    CHECK(logged.find(longTail.substr(0, 1024)) == std::string::npos);
    CHECK(logged.find("bytes)") != std::string::npos);
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("with the open-file limit held by idle connections, a transaction and /health are still answered") {
    // soft = hard = 256: raising to the hard limit gains nothing, so only the connection cap
    // (a quarter of the limit) and evicting idle strangers keep descriptors free.
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.openFileLimit = BridgeSettings::FileLimit{.soft = 256, .hard = 256}; });
    env.bridge->startRunning();
    std::vector<RawConnection> idle;
    for (int i = 0; i < 400; ++i) {
        idle.emplace_back(env.bridge->port());
        if (i % 2) idle.back().send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");  // a header never finished
    }
    std::this_thread::sleep_for(300ms);  // let the bridge take them all in
    AsClient client(env.bridge->port());
    std::string body = txnBody({timelineEvent("$crowded", "!crowd:hs.test", "@alice:hs.test")});
    AsResponse ok;
    try {
        ok = putTransaction(client, "crowded", body);
    } catch (const HarnessError& e) {
        FAIL_CHECK(e.what() << "\n" << env.bridge->lastLines());
    }
    INFO(env.bridge->lastLines());
    CHECK(ok.status == 200);
    CHECK(ok.elapsed < 2s);
    // The homeserver's connection, once authenticated, keeps its slot while strangers come.
    for (int i = 0; i < 200; ++i) idle.emplace_back(env.bridge->port());
    std::this_thread::sleep_for(300ms);
    AsResponse again = putTransaction(client, "crowded2", txnBody({timelineEvent("$crowded2", "!crowd:hs.test", "@alice:hs.test")}));
    CHECK(again.status == 200);
    AsClient monitor(env.bridge->port());
    AsResponse health = monitor.get("/health", {}, 3s);
    CHECK(health.status == 200);
    CHECK(eventually([&] { return env.bridge->handledCount("$crowded2") == 1; }));
    idle.clear();
    CHECK(env.bridge->stop() == 0);
    checkNoSpecViolations(*env.hs);
}

TEST_CASE("the soft open-file limit is raised to the hard limit at start, and the log says so") {
    BridgedHomeserver env({}, [](BridgeSettings& s) { s.openFileLimit = BridgeSettings::FileLimit{.soft = 300, .hard = 4000}; });
    env.bridge->startRunning();
    // Logged before "bridge is running", which startRunning() waited for.
    INFO(env.bridge->lastLines());
    CHECK(env.bridge->output().find("open-file limit soft_before=300 soft=4000 hard=4000") != std::string::npos);
    CHECK(env.bridge->stop() == 0);
}

}  // namespace mxbridge::test
