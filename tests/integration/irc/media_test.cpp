// Files sent from Matrix, as IRC users get them: a link they can open although the
// homeserver serves media to logged-in clients only (spec v1.11, Synapse's frozen media).
#include <doctest/doctest.h>

#include <regex>

#include "irc_bridge_fixture.h"
// After the fixture: its homeserver double has an HttpResponse of its own (see http_client.h).
#include "http_client.h"

using namespace mxbridge::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kAlice = "@alice:hs.test";

}  // namespace

TEST_CASE("an image sent from Matrix reaches IRC as a link an IRC user can open while the homeserver serves media to logged-in clients only; a forged link is refused") {
    IrcBridgeOptions options;
    options.authenticatedMediaOnly = true;
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#media");
    f.startBridge();
    std::string room = f.joinPortal(kAlice, "#media");

    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3000, '\x01') + "end";
    const std::string mxc = f.hs().addMedia(png, "image/png", "cat.png");
    f.hs().sendAsUser(room, kAlice,
                      {{"msgtype", "m.image"}, {"body", "cat.png"}, {"url", mxc},
                       {"info", {{"mimetype", "image/png"}, {"size", png.size()}}}},
                      "m.room.message");
    std::string line = bob.readUntil(R"(^:alice\[m\]!\S+ PRIVMSG #media :cat\.png http://127\.0\.0\.1:\d+/_mxbridge/media/\S+$)", 20s);
    CHECK(line.find("/_matrix/") == std::string::npos);
    std::smatch url;
    REQUIRE(std::regex_search(line, url, std::regex(R"(http://127\.0\.0\.1:(\d+)(/_mxbridge/media/\S+))")));
    const auto port = static_cast<std::uint16_t>(std::stoi(url[1].str()));
    const std::string path = url[2].str();

    // What an IRC user's browser does with the link.
    harness_http::HttpClient browser(port, false);
    harness_http::HttpResponse r = browser.get(path);
    CHECK(r.status == 200);
    CHECK(r.body.size() == png.size());
    CHECK(r.body == png);
    CHECK(r.header("Content-Type") == "image/png");
    CHECK(r.header("Content-Disposition") == "inline; filename=\"cat.png\"");
    CHECK(r.header("Content-Security-Policy").rfind("sandbox", 0) == 0);

    // The token with one character of its signature changed, and one naming nothing.
    const size_t tokenEnd = path.find('/', std::string("/_mxbridge/media/").size());
    std::string forged = path.substr(0, tokenEnd);
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    CHECK(browser.get(forged).status == 403);
    CHECK(browser.get("/_mxbridge/media/0.bXhjOi8vaHMudGVzdC94.AAAA").status == 403);
    // A file the homeserver does not have, through a link the bridge itself would make, is
    // covered by the unit tests; here: nothing but the authenticated endpoint was asked.
    for (const auto& req : f.hs().requests())
        if (req.path.find("/download/") != std::string::npos)
            CHECK_MESSAGE(req.path.rfind("/_matrix/client/v1/media/download/", 0) == 0, req.path);
    CHECK(f.hs().specViolations().empty());
}
