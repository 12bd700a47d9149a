// Bot commands of the IRC bridge, in the DM with the bridge bot; !help is generated from these.
#include "irc_connector.h"

namespace mxbridge::irc {

IrcNetwork* IrcConnector::networkArg(const CommandCall& call, std::size_t index) {
    if (call.args.size() <= index) return network(config_.defaultNetwork().name);
    IrcNetwork* net = network(call.args[index]);
    if (!net) {
        std::string known;
        for (const auto& n : config_.names()) known += (known.empty() ? "" : ", ") + n;
        call.reply("Unknown network \"" + call.args[index] + "\"; this bridge serves: " + known + ".");
    }
    return net;
}

void IrcConnector::registerCommands() {
    CommandRegistry& commands = ctx_->commands();

    commands.add(Command{"join", "<#channel> [network] [key]", "Bridge an IRC channel and get its room address",
                         Permission::User, 1, [this](CommandCall& call) {
        const std::string& chan = call.args[0];
        IrcNetwork* net = networkArg(call, 1);
        if (!net) return;
        if (auto problem = net->channelProblem(chan)) {
            call.reply("\"" + chan + "\" is not a channel name on " + net->config().name + ": " + *problem + ".");
            return;
        }
        net->ensureChannel(chan, call.args.size() > 2 ? call.args[2] : std::string());
        PortalInfo portal = net->channelPortal(chan);
        call.reply("Bridging " + chan + " on " + net->config().name + ". Its room is the alias with id \"" +
                   portal.aliasId + "\", e.g. #irc_" + portal.aliasId + ":" + ctx_->serverName() +
                   " with the default alias template: join it.");
    }});

    commands.add(Command{"link", "<!room:server> <#channel> [network]",
                         "Link a room you moderate to an IRC channel (a channel op on IRC approves, or an admin)",
                         Permission::User, 2, [this](CommandCall& call) {
        const std::string& chan = call.args[1];
        if (!isValidRoomId(call.args[0])) {
            call.reply("Usage: !link <!room:server> <#channel> [network]");
            return;
        }
        IrcNetwork* net = networkArg(call, 2);
        if (!net) return;
        if (auto problem = net->channelProblem(chan)) {
            call.reply("\"" + chan + "\" is not a channel name on " + net->config().name + ": " + *problem +
                       ". Usage: !link <!room:server> <#channel> [network]");
            return;
        }
        Link link{RoomId(call.args[0]), channelRoomId(net->config().name, chan)};
        Result<void> consent = call.senderIsAdmin
                                   ? Result<void>()
                                   : net->requestLink(IrcNetwork::LinkAsk{link, chan, call.sender, call.reply});
        if (!consent) {
            call.reply(consent.error().message);
            return;
        }
        ctx_->links().link(link);
        startBridging(*net, link, chan);
        call.reply("Linked " + link.room.str() + " to " + chan + " on " + net->config().name + ".");
    }, /*roomArg: the framework checks the sender may manage that room's bridges*/ 0});

    commands.add(Command{"nick", "<nick> [network]", "Change your IRC nick", Permission::User, 1,
                         [this](CommandCall& call) {
        if (IrcNetwork* net = networkArg(call, 1)) net->setNick(call.sender, call.args[0], call.reply);
    }});

    commands.add(Command{"whois", "<nick> [network]", "Ask IRC who someone is", Permission::User, 1,
                         [this](CommandCall& call) {
        if (IrcNetwork* net = networkArg(call, 1)) net->whois(call.args[0], call.reply);
    }});

    commands.add(Command{"storepass", "<password> [network] [sasl|nickserv]",
                         "Store your IRC password (encrypted) and identify with it", Permission::User, 1,
                         [this](CommandCall& call) {
        IrcNetwork* net = networkArg(call, 1);
        if (!net) return;
        std::string auth = call.args.size() > 2 ? call.args[2] : (net->config().sasl ? "sasl" : "nickserv");
        if (auth != "sasl" && auth != "nickserv") {
            call.reply("The method is \"sasl\" or \"nickserv\".");
            return;
        }
        const std::string& name = net->config().name;
        Login login = ctx_->users().login(call.sender, name).value_or(Login{call.sender, name, "", {}, {}});
        login.secret = Secret<std::string>(call.args[0]);
        login.data["auth"] = auth;
        ctx_->users().saveLogin(login);
        net->reconnectPuppet(call.sender, [reply = call.reply, auth](const std::string& text) {
            reply("Password stored; identifying with " + auth + ". " + text);
        });
    }});

    commands.add(Command{"removepass", "[network]", "Forget your stored IRC password", Permission::User, 0,
                         [this](CommandCall& call) {
        IrcNetwork* net = networkArg(call, 0);
        if (!net) return;
        auto login = ctx_->users().login(call.sender, net->config().name);
        if (!login || login->secret.empty()) {
            call.reply("No password stored for " + net->config().name + ".");
            return;
        }
        login->secret = Secret<std::string>();
        ctx_->users().saveLogin(*login);
        call.reply("Password for " + net->config().name + " removed.");
    }});

    commands.add(Command{"quit", "[network]", "Disconnect your IRC connection", Permission::User, 0,
                         [this](CommandCall& call) {
        if (IrcNetwork* net = networkArg(call, 0)) net->quitPuppet(call.sender, call.reply);
    }});

    commands.add(Command{"reconnect", "[network]", "Reconnect your IRC connection", Permission::User, 0,
                         [this](CommandCall& call) {
        if (IrcNetwork* net = networkArg(call, 0)) net->reconnectPuppet(call.sender, call.reply);
    }});

    commands.add(Command{"listrooms", "", "List the bridged IRC channels", Permission::User, 0,
                         [this](CommandCall& call) {
        std::string text;
        for (auto& [name, net] : networks_) text += net->status() + "\n";
        for (const Link& link : ctx_->links().all())
            if (auto t = parseRemoteRoom(link.remote); t && t->isChannel())
                text += t->network + " " + t->channel + " <-> " + link.room.str() + "\n";
        call.reply(text);
    }});

    commands.add(Command{"cmd", "<network> <raw IRC line>", "Send a raw line as the bridge bot (admins)",
                         Permission::Admin, 2, [this](CommandCall& call) {
        IrcNetwork* net = networkArg(call, 0);
        if (!net) return;
        std::string raw = call.rawArgs;
        auto space = raw.find(' ', raw.find_first_not_of(' '));
        raw = space == std::string::npos ? std::string() : raw.substr(space + 1);
        net->sendRaw(raw, call.reply);
    }});
}

}  // namespace mxbridge::irc
