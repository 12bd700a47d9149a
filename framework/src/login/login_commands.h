// Logins in the DM with the bridge bot: !login [network] [flow], !logout [network] [login],
// !status, !reconnect [network] [login] and !cancel, and the answers a user types to a
// login's questions. An answer to a secret field is redacted by the bot at once (before it
// is read further) and never echoed, logged or counted; the answers of one step are handed
// to the login and dropped when that step has been checked. Steps that call the bridge run
// on this class's own workers, off the room queue the DM's messages arrive on.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "login/login_sessions.h"
#include "login/remote_clients_impl.h"
#include "mxbridge/intent.h"
#include "ops/command_registry_impl.h"
#include "ops/remote_state_tracker.h"
#include "store/login_store.h"

namespace mxbridge::detail {

class LoginCommands {
public:
    struct Deps {
        LoginSessions& sessions;
        RemoteClientsImpl& clients;
        LoginStore& store;
        RemoteStateTracker& states;
        Intent& bot;  // answers as notices, and redacts secrets
        std::string networkName = "the network";  // the bridge's, e.g. "IRC"
        Logger log{"logins"};
    };

    explicit LoginCommands(Deps deps);
    // Waits for the steps in flight (stop()).
    ~LoginCommands();
    LoginCommands(const LoginCommands&) = delete;
    LoginCommands& operator=(const LoginCommands&) = delete;

    // Adds !login, !logout, !status, !reconnect and !cancel; for a bridge without a
    // LoginHandler only !login, which says that there is nothing to log in to.
    void registerIn(CommandRegistry& registry);

    // A message in a room with no links (a DM with the bot), before it is read as a command.
    // True when it answered a question of `sender`'s login in that room (or was their
    // !cancel): it goes no further. Runs on the DM's room queue; never blocks.
    bool onDirectMessage(const UserId& sender, const RoomId& room, const EventId& event, const std::string& body);

    // The homeserver refused the bot's redaction of `event` in `room` (a DM the user made gives
    // the bot no power to redact): if it held a login secret, its owner is told to delete it.
    void onRedactionRefused(const RoomId& room, const EventId& event, const std::string& why);

    // Logins in progress are cancelled and the workers joined. Before the connector stops.
    void stop();

    // The text of !status for `owner`: each login and connection with its state and since when.
    std::string statusText(const UserId& owner) const;

private:
    // A Fields step being answered one field per message in the DM.
    struct Asking {
        RoomId room;
        std::string sessionId;
        std::string network;
        std::vector<LoginField> fields;
        size_t next = 0;
        LoginInput input;  // this step's answers only
    };

    // Secrets' events the bot was asked to redact lately (bounded): only those are told about.
    std::set<std::string> secretEvents_;
    std::deque<std::string> secretEventOrder_;

    void login(const CommandCall& call);
    void logout(const CommandCall& call);
    void reconnect(const CommandCall& call);
    void cancel(const CommandCall& call);
    // Shows `result` in `room`, and goes on with the login: asks the first field, or waits.
    void show(const UserId& owner, const RoomId& room, const Result<LoginPrompt>& result);
    void ask(const RoomId& room, const LoginField& field, bool first, const std::string& instructions);
    void say(const RoomId& room, const std::string& text);
    void runStep(std::function<void()> step);
    // The key a !logout / !reconnect with these arguments means, or an answer for the user.
    Result<LoginKey> keyFor(const UserId& owner, const std::vector<std::string>& args) const;

    Deps deps_;
    std::mutex mutex_;
    std::map<UserId, Asking> asking_;
    bool stopped_ = false;
    boost::asio::thread_pool workers_{2};
};

}  // namespace mxbridge::detail
