// The puppets of one network (see puppet_registry.h).
#include "puppet_registry.h"

#include "mapping.h"
#include "mxbridge/irc/nick.h"

namespace mxbridge::irc {

IrcConnectionOptions networkConnectionOptions(const NetworkConfig& c) {
    IrcConnectionOptions o;
    o.host = c.address;
    o.port = c.port;
    o.tls = c.tls;
    o.verifyCertificate = c.tlsVerify;
    o.serverPassword = c.password;
    o.floodBurst = c.floodBurst;
    o.floodInterval = std::chrono::milliseconds(c.floodIntervalMs);
    return o;
}

PuppetRegistry::PuppetRegistry(const NetworkConfig& config, ConnectionMaker makeConnection)
    : config_(config), makeConnection_(std::move(makeConnection)) {}

Puppet& PuppetRegistry::create(const UserId& user, const std::string& displayName, const PuppetSetup& setup) {
    const std::string localpart(localpartOf(user.str()));
    std::string nick;
    if (setup.login && !setup.login->remoteName.empty()) nick = setup.login->remoteName;
    else nick = sanitizeNick(displayName.empty() ? localpart : displayName, 30, config_.nickTemplate);
    auto p = std::make_unique<Puppet>(user, displayName, nick, ++generation_);
    IrcConnectionOptions o = networkConnectionOptions(config_);
    o.nick = p->nick;
    o.username = usernameFor(config_.usernameTemplate, localpart);
    o.realname = fillTemplate(config_.realname, localpart, displayName.empty() ? localpart : displayName);
    o.quitMessage = "Matrix user left";
    if (const auto& login = setup.login; login && !login->secret.empty()) {
        bool useSasl = config_.sasl;
        if (login->data.contains("auth") && login->data["auth"].is_string())
            useSasl = login->data["auth"].get<std::string>() == "sasl";
        std::string account = login->remoteName.empty() ? p->nick : login->remoteName;
        if (useSasl) o.sasl = SaslPlainCredentials{"", account, login->secret.reveal()};
        else o.nickservPassword = login->secret.reveal();
    }
    if (setup.bindAddress) o.bindAddress = *setup.bindAddress;
    p->conn = makeConnection_(user, p->generation, std::move(o));
    p->conn.start();
    byNick_[foldName(p->nick)] = user;
    Puppet& ref = *p;
    puppets_[user] = std::move(p);
    return ref;
}

Puppet* PuppetRegistry::find(const UserId& user) {
    auto it = puppets_.find(user);
    return it == puppets_.end() ? nullptr : it->second.get();
}

const Puppet* PuppetRegistry::find(const UserId& user) const {
    auto it = puppets_.find(user);
    return it == puppets_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Puppet> PuppetRegistry::take(const UserId& user) {
    auto it = puppets_.find(user);
    if (it == puppets_.end()) return nullptr;
    std::unique_ptr<Puppet> p = std::move(it->second);
    puppets_.erase(it);
    byNick_.erase(foldName(p->nick));
    return p;
}

std::vector<std::unique_ptr<Puppet>> PuppetRegistry::takeWhere(const std::function<bool(const Puppet&)>& pred) {
    std::vector<std::unique_ptr<Puppet>> taken;
    for (auto it = puppets_.begin(); it != puppets_.end();) {
        if (!pred(*it->second)) {
            ++it;
            continue;
        }
        byNick_.erase(foldName(it->second->nick));
        taken.push_back(std::move(it->second));
        it = puppets_.erase(it);
    }
    return taken;
}

void PuppetRegistry::renamed(Puppet& puppet, const std::string& nick) {
    byNick_.erase(foldName(puppet.nick));
    puppet.nick = nick;
    byNick_[foldName(puppet.nick)] = puppet.user;
}

bool PuppetRegistry::isLive(const UserId& user, std::uint64_t generation) const {
    const Puppet* p = find(user);
    return p && p->generation == generation;
}

const UserId* PuppetRegistry::userForNick(const std::string& folded) const {
    auto it = byNick_.find(folded);
    return it == byNick_.end() ? nullptr : &it->second;
}

}  // namespace mxbridge::irc
