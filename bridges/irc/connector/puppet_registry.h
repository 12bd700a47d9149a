// The puppets of one network, by Matrix user and by nick. The only place puppets are made
// (create), so making them framework remote clients later changes one function.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include <mxbridge/store.h>

#include "network_config.h"
#include "puppet.h"

namespace mxbridge::irc {

// What a new puppet needs from the framework's stores; the caller reads it (store calls),
// the registry only uses it.
struct PuppetSetup {
    std::optional<Login> login;              // the user's stored login on this network
    std::optional<boost::asio::ip::address> bindAddress;  // with ipv6_prefix: the user's own source address
};

// Host, port, TLS, server password and flood control of the network's connections.
IrcConnectionOptions networkConnectionOptions(const NetworkConfig& config);

class PuppetRegistry {
public:
    // Makes (does not start) a new puppet's connection; its callbacks carry the user and the
    // generation, to be checked with isLive().
    using ConnectionMaker =
        std::function<IrcConnection(const UserId& user, std::uint64_t generation, IrcConnectionOptions options)>;
    using Map = std::map<UserId, std::unique_ptr<Puppet>>;

    PuppetRegistry(const NetworkConfig& config, ConnectionMaker makeConnection);

    // A new puppet for `user` (who has none): nick from the stored login, else from the
    // display name through the nick template; SASL or NickServ from the login; started.
    Puppet& create(const UserId& user, const std::string& displayName, const PuppetSetup& setup);
    Puppet* find(const UserId& user);
    const Puppet* find(const UserId& user) const;
    // Takes `user`'s puppet out (its nick is free again); null when there is none.
    std::unique_ptr<Puppet> take(const UserId& user);
    // Takes out every puppet `pred` is true of.
    std::vector<std::unique_ptr<Puppet>> takeWhere(const std::function<bool(const Puppet&)>& pred);
    // The server gave `puppet` another nick (001, NICK).
    void renamed(Puppet& puppet, const std::string& nick);

    // The callbacks of `user`'s connection number `generation` still concern their puppet.
    bool isLive(const UserId& user, std::uint64_t generation) const;
    bool isPuppetNick(const std::string& folded) const { return byNick_.count(folded) > 0; }
    // The Matrix user whose puppet has the (folded) nick.
    const UserId* userForNick(const std::string& folded) const;
    const Map& all() const { return puppets_; }
    std::size_t size() const { return puppets_.size(); }

private:
    const NetworkConfig& config_;
    ConnectionMaker makeConnection_;
    Map puppets_;
    std::map<std::string, UserId> byNick_;  // folded nick -> Matrix user
    std::uint64_t generation_ = 0;
};

}  // namespace mxbridge::irc
