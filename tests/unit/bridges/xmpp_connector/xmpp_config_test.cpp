// The XMPP bridge's config section: defaults, and errors naming the key.
#include <doctest/doctest.h>

#include "xmpp_config.h"

using namespace mxbridge;
using namespace mxbridge::xmpp;

namespace {

ConfigSection section(const nlohmann::json& j) { return ConfigSection(j, "bridge", "config.yaml", {}); }

std::string errorOf(const nlohmann::json& j) {
    try {
        parseXmppBridgeConfig(section(j));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a component with jid and secret gets the documented host and port") {
    auto c = parseXmppBridgeConfig(section({{"component", {{"jid", "Matrix.Example.COM"}, {"secret", "s3"}}}}));
    CHECK(c.component.jid == "matrix.example.com");
    CHECK(c.component.secret == "s3");
    CHECK(c.component.host == "127.0.0.1");
    CHECK(c.component.port == 5347);
    auto d = parseXmppBridgeConfig(
        section({{"component", {{"jid", "m.example"}, {"secret", "s"}, {"host", "xmpp.internal"}, {"port", 5348}}}}));
    CHECK(d.component.host == "xmpp.internal");
    CHECK(d.component.port == 5348);
}

TEST_CASE("mistakes are refused with the key that holds them") {
    CHECK(errorOf(nlohmann::json::object()).find("bridge.component") != std::string::npos);
    CHECK(errorOf({{"component", {{"secret", "s"}}}}).find("jid") != std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "m.example"}}}}).find("secret") != std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "m.example"}, {"secret", ""}}}}).find("secret") != std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "bot@m.example"}, {"secret", "s"}}}}).find("domain alone") != std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "m..example"}, {"secret", "s"}}}}).find("not a JID") != std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "m.example"}, {"secret", "s"}, {"port", 70000}}}}).find("port") !=
          std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "m.example"}, {"secret", "s"}, {"secert", "x"}}}}).find("secert") !=
          std::string::npos);
    CHECK(errorOf({{"component", {{"jid", "m.example"}, {"secret", "s"}}}, {"muc", true}}).find("muc") !=
          std::string::npos);
}

TEST_CASE("MUC portals: the documented defaults, and bad settings refused with their key") {
    nlohmann::json component = {{"jid", "m.example"}, {"secret", "s"}};
    auto c = parseXmppBridgeConfig(section({{"component", component}}));
    CHECK(c.muc.alias.text() == "xmpp_{room}_{service}");
    CHECK(c.muc.nick == "Matrix");
    CHECK(c.muc.allows(*Jid::parse("any@where.example")));
    auto d = parseXmppBridgeConfig(section({{"component", component},
                                            {"muc", {{"alias", "muc_{service}_{room}"}, {"nick", "bridge"},
                                                     {"services", {"Conference.Example.org"}}}}}));
    CHECK(d.muc.alias.roomFor("muc_conference.example.org_lounge")->str() == "lounge@conference.example.org");
    CHECK(d.muc.nick == "bridge");
    CHECK(d.muc.allows(*Jid::parse("lounge@conference.example.org")));
    CHECK_FALSE(d.muc.allows(*Jid::parse("lounge@elsewhere.example")));
    CHECK(errorOf({{"component", component}, {"muc", {{"alias", "xmpp_{room}"}}}}).find("bridge.muc.alias") !=
          std::string::npos);
    CHECK(errorOf({{"component", component}, {"muc", {{"services", {"a@b"}}}}}).find("bridge.muc.services") !=
          std::string::npos);
    CHECK(errorOf({{"component", component}, {"muc", {{"nickname", "x"}}}}).find("nickname") != std::string::npos);
}

TEST_CASE("the gateway MUC service: off by default, its room template and servers checked") {
    nlohmann::json component = {{"jid", "m.example"}, {"secret", "s"}};
    auto c = parseXmppBridgeConfig(section({{"component", component}}));
    CHECK_FALSE(c.gateway.enabled);
    CHECK(c.gateway.room.text() == "{alias}#{server}");
    CHECK(c.gateway.allows("hs.example", "hs.example"));
    CHECK_FALSE(c.gateway.allows("elsewhere.example", "hs.example"));
    auto d = parseXmppBridgeConfig(section({{"component", component},
                                            {"gateway", {{"enabled", true}, {"room", "mx_{alias}%{server}"},
                                                         {"servers", {"a.example", "b.example"}}}}}));
    CHECK(d.gateway.enabled);
    CHECK(d.gateway.room.aliasFor("mx_lounge%a.example") == "#lounge:a.example");
    CHECK(d.gateway.allows("b.example", "hs.example"));
    CHECK_FALSE(d.gateway.allows("hs.example", "hs.example"));
    CHECK(errorOf({{"component", component}, {"gateway", {{"room", "{alias}.{server}"}}}})
              .find("bridge.gateway.room") != std::string::npos);
    CHECK(errorOf({{"component", component}, {"gateway", {{"servers", {"a b"}}}}}).find("bridge.gateway.servers") !=
          std::string::npos);
    CHECK(errorOf({{"component", component}, {"gateway", {{"rooms", true}}}}).find("rooms") != std::string::npos);
}
