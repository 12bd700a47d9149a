#include "xmpp_config.h"

#include "mxbridge/xmpp/jid.h"

#include <algorithm>

namespace mxbridge::xmpp {

bool MucOptions::allows(const Jid& room) const {
    return services.empty() || std::find(services.begin(), services.end(), room.domain()) != services.end();
}

bool GatewayOptions::allows(std::string_view server, std::string_view ownServer) const {
    if (servers.empty()) return server == ownServer;
    return std::find(servers.begin(), servers.end(), server) != servers.end();
}

XmppBridgeConfig parseXmppBridgeConfig(const ConfigSection& section) {
    section.rejectUnknownKeys({"component", "muc", "gateway"});
    if (!section.has("component"))
        section.fail("component", "missing: the XMPP server's component settings (jid, secret, host, port)");
    ConfigSection component = section.child("component");
    component.rejectUnknownKeys({"jid", "secret", "host", "port"});
    XmppBridgeConfig config;
    ComponentOptions& o = config.component;
    std::string jid = component.requireString("jid");
    std::string why;
    auto parsed = Jid::parse(jid, &why);
    if (!parsed) component.fail("jid", "not a JID (" + why + "): \"" + jid + "\"");
    if (!parsed->local().empty() || !parsed->resource().empty())
        component.fail("jid", "expected the component's domain alone (e.g. matrix.example.com), got \"" + jid + "\"");
    o.jid = parsed->domain();
    o.secret = component.requireString("secret");
    if (o.secret.empty()) component.fail("secret", "empty; set the server's secret for " + o.jid);
    o.host = component.getString("host", "127.0.0.1");
    if (o.host.empty()) component.fail("host", "empty; the XMPP server's address");
    o.port = static_cast<std::uint16_t>(component.getInt("port", 5347, 1, 65535));

    ConfigSection muc = section.child("muc");
    muc.rejectUnknownKeys({"alias", "nick", "services"});
    if (muc.has("alias")) {
        std::string text = muc.requireString("alias");
        auto alias = MucAliasTemplate::parse(text, &why);
        if (!alias) muc.fail("alias", why + ": \"" + text + "\"");
        config.muc.alias = *alias;
    }
    config.muc.nick = muc.getString("nick", config.muc.nick);
    if (!Jid::fromParts("r", "muc.example", config.muc.nick))
        muc.fail("nick", "not usable as a MUC nick: \"" + config.muc.nick + "\"");
    for (const std::string& service : muc.getStringList("services")) {
        auto jid = Jid::parse(service);
        if (!jid || !jid->local().empty() || !jid->resource().empty())
            muc.fail("services", "expected MUC service domains (e.g. conference.example.org), got \"" + service + "\"");
        config.muc.services.push_back(jid->domain());
    }

    ConfigSection gateway = section.child("gateway");
    gateway.rejectUnknownKeys({"enabled", "room", "servers"});
    config.gateway.enabled = gateway.getBool("enabled", false);
    if (gateway.has("room")) {
        std::string text = gateway.requireString("room");
        auto room = GatewayRoomTemplate::parse(text, &why);
        if (!room) gateway.fail("room", why + ": \"" + text + "\"");
        config.gateway.room = *room;
    }
    for (const std::string& server : gateway.getStringList("servers")) {
        if (server.empty() || server.find_first_of(" /@#") != std::string::npos)
            gateway.fail("servers", "expected homeserver names (e.g. example.org), got \"" + server + "\"");
        config.gateway.servers.push_back(server);
    }
    return config;
}

}  // namespace mxbridge::xmpp
