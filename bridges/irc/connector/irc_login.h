// IRC accounts as framework logins (login.h): `!login <network>` asks for the account and its
// password, the framework stores them (the password encrypted), and the user's puppet
// identifies with them: SASL PLAIN, or NickServ IDENTIFY where the network says `sasl: false`
// (or the user picks that method). Each Matrix user's puppet on a network is the framework's
// remote client of their login there (one per network, login id ""), so the framework's
// !status, !logout and GET /_mxbridge/v1/state show it, and a refused password is told once
// in the user's DM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mxbridge/connector.h>

namespace mxbridge::irc {

class IrcNetwork;
struct NetworkConfig;

// The login methods of a network, its configured one (`sasl`) first.
std::vector<LoginFlow> ircLoginFlows(const NetworkConfig& network);

// One login in progress: the account, then its password (a secret step).
class IrcLoginProcess final : public LoginProcess {
public:
    IrcLoginProcess(std::string network, std::string method) : network_(std::move(network)), method_(std::move(method)) {}
    Result<LoginStep> start() override;
    Result<LoginStep> submit(const LoginInput& input) override;

private:
    std::string network_;
    std::string method_;  // "sasl" or "nickserv"
};

// The framework's side of one user's puppet on one network: connecting and letting go are
// the network's (IrcNetwork::loginStarted/loginStopped); the puppet stays in the network's
// registry, which knows its channels and queued lines.
class PuppetLoginClient final : public RemoteClient {
public:
    PuppetLoginClient(IrcNetwork& network, UserId user, RemoteClientHandle handle, bool connectNow);
    void connect() override;
    void disconnect() override;
    // The network's own idle_timeout_seconds decides, knowing what the puppet still has to send.
    bool reapable() const override { return false; }

private:
    IrcNetwork& network_;
    const UserId user_;
    const RemoteClientHandle handle_;
    const bool connectNow_;
    const std::uint64_t id_;
};

}  // namespace mxbridge::irc
