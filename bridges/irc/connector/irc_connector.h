// The IRC bridge as the framework sees it: channels are portals, IRC users ghosts, Matrix
// users talk through puppets (or the relay bot). One io_context thread, owned here, runs
// every connection of every network; hooks only post to it.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include <mxbridge/connector.h>

#include "network.h"
#include "network_config.h"

namespace mxbridge::irc {

class IdentServer;

class IrcConnector final : public Connector,
                           public EditHandler,
                           public ReactionHandler,
                           public RedactionHandler,
                           public LinkHandler,
                           public LoginHandler,
                           public ConfigValidator {
public:
    IrcConnector();
    ~IrcConnector() override;

    BridgeInfo info() const override;
    void start(BridgeContext& context) override;
    void stop() override;
    void validateConfig(const ConfigSection& section) const override;

    HookResult onMatrixMessage(const MatrixMessage& message) override;
    HookResult onMatrixEdit(const MatrixEdit& edit) override;
    HookResult onMatrixReaction(const MatrixReaction& reaction) override;
    HookResult onMatrixRedaction(const MatrixRedaction& redaction) override;
    HookResult onMatrixMembership(const MatrixMembership& change) override;
    HookResult onMatrixStateChange(const MatrixStateChange& change) override;
    Result<void> onLinkRequested(const LinkRequest& request) override;
    UserQueryAnswer onUserQuery(const UserId& user) override;
    AliasQueryAnswer onAliasQuery(const RoomAlias& alias) override;
    std::optional<nlohmann::json> onThirdpartyProtocol(const std::string& protocol) override;

    // Logins (irc_login.h): an account per network, for SASL or NickServ.
    std::vector<std::string> loginNetworks() const override;
    std::vector<LoginFlow> loginFlows(const std::string& network) const override;
    std::unique_ptr<LoginProcess> createLogin(const UserId& user, const std::string& network,
                                              const std::string& flowId) override;
    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override;

private:
    void registerCommands();  // commands.cpp
    IrcNetwork* network(const std::string& name);
    // "<network>" argument, or the default network; replies and returns null when unknown.
    IrcNetwork* networkArg(const CommandCall& call, std::size_t index);
    std::optional<GhostName> ghostName(const UserId& user);
    // A link was stored: the bot joins the room and the channel.
    void startBridging(IrcNetwork& net, const Link& link, const std::string& channel);

    BridgeContext* ctx_ = nullptr;
    std::optional<Logger> log_;
    IrcBridgeConfig config_;
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::unique_ptr<IdentServer> ident_;
    std::map<std::string, std::unique_ptr<IrcNetwork>> networks_;
    std::thread loop_;
};

}  // namespace mxbridge::irc
