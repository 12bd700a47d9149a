// Channel names from provisioning, bot commands and aliases are checked against what the
// ircd says it allows (ISUPPORT CHANTYPES, CHANNELLEN) before the bot sends a JOIN.
#include <doctest/doctest.h>

#include "irc_bridge_fixture.h"

using namespace mxbridge::test;
using nlohmann::json;

namespace {
const std::string kAlice = "@alice:hs.test";
const std::string kAdmin = "@root:hs.test";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

HttpCallResult provisionLink(IrcBridgeFixture& f, const std::string& room, const std::string& remote) {
    json body{{"room_id", room}, {"remote_room", remote}, {"user_id", kAdmin}};
    return httpCall(f.bridgeUrl(), "POST", "/_mxbridge/provision/v1/link",
                    {{"Authorization", std::string("Bearer ") + kProvisioningSecret},
                     {"Content-Type", "application/json"}},
                    body.dump(), 10s);
}

// The channels the bridge bot is in, as the ircd tells another user.
std::string botChannels(LineSocket& asker) {
    asker.writeLine("WHOIS bridgebot");
    std::string channels;
    for (;;) {
        std::string line = asker.readUntil(R"( (319|318) )", 10s);
        if (line.find(" 318 ") != std::string::npos) return channels;
        channels += line.substr(line.rfind(':') + 1) + " ";
    }
}
}  // namespace

TEST_CASE("provisioning a remote room with a comma or a space in its channel is refused with 400 and joins nothing") {
    IrcBridgeOptions options;
    options.admins = {kAdmin};
    options.provisioning = true;
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#p2");
    f.startBridge();
    f.joinPortal(kAlice, "#p2");  // the bot is registered and has read the ircd's 005
    bob.readUntil(R"(^:bridgebot!\S+ JOIN :?#p2$)", 20s);
    std::string room = f.hs().createRoom(kAdmin, {{"preset", "public_chat"}});

    HttpCallResult comma = provisionLink(f, room, "test/#p2,#x");
    CHECK_MESSAGE(comma.status == 400, comma.body);
    CHECK(json::parse(comma.body).value("errcode", "") == "M_INVALID_PARAM");
    CHECK_MESSAGE(has(json::parse(comma.body).value("error", ""), "','"), comma.body);
    HttpCallResult space = provisionLink(f, room, "test/#p2 #y");
    CHECK_MESSAGE(space.status == 400, space.body);
    HttpCallResult tooLong = provisionLink(f, room, "test/#" + std::string(80, 'a'));
    CHECK_MESSAGE(tooLong.status == 400, tooLong.body);
    CHECK_MESSAGE(has(json::parse(tooLong.body).value("error", ""), "CHANNELLEN"), tooLong.body);

    std::string channels = botChannels(bob);
    CHECK_MESSAGE(!has(channels, "#x"), channels);
    CHECK_MESSAGE(!has(channels, "#y"), channels);
    CHECK_MESSAGE(!has(channels, "#aaaa"), channels);
    HttpCallResult links = httpCall(f.bridgeUrl(), "GET", "/_mxbridge/provision/v1/links?room_id=" + room +
                                                              "&user_id=" + kAdmin,
                                    {{"Authorization", std::string("Bearer ") + kProvisioningSecret}}, "", 10s);
    CHECK_MESSAGE(!has(links.body, "#p2,#x"), links.body);
}

TEST_CASE("!link and !join refuse a channel prefix or length the ircd does not allow, and say why") {
    IrcBridgeOptions options;
    options.admins = {kAdmin};
    IrcBridgeFixture f(options);
    LineSocket bob = f.ircUser("bob", "#p3");
    f.startBridge();
    f.joinPortal(kAlice, "#p3");
    bob.readUntil(R"(^:bridgebot!\S+ JOIN :?#p3$)", 20s);
    std::string room = f.hs().createRoom(kAdmin, {{"preset", "public_chat"}});
    std::string dm = f.openBotDm(kAdmin);

    // The test ircd's CHANTYPES is "#": "&local" would be refused by the server after linking.
    std::string prefix = f.command(dm, kAdmin, "!link " + room + " &local");
    CHECK_MESSAGE(has(prefix, "not a channel name on test"), prefix);
    CHECK_MESSAGE(!has(prefix, "Linked"), prefix);
    std::string longName = f.command(dm, kAdmin, "!join #" + std::string(80, 'b'));
    CHECK_MESSAGE(has(longName, "CHANNELLEN"), longName);
    std::string fine = f.command(dm, kAdmin, "!link " + room + " #p3");
    CHECK_MESSAGE(has(fine, "Linked " + room + " to #p3"), fine);
    std::string channels = botChannels(bob);
    CHECK_MESSAGE(!has(channels, "&local"), channels);
    CHECK_MESSAGE(!has(channels, "#bbbb"), channels);
}
