// Bot commands in a DM with the bridge bot: parses "!name args", checks permission and the
// argument count, answers !help (generated from what is registered) and !version, and runs
// the command. A throwing command gets an error reply; it never reaches the caller.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "mxbridge/commands.h"
#include "mxbridge/log.h"
#include "mxbridge/result.h"

namespace mxbridge::detail {

class CommandRegistryImpl final : public CommandRegistry {
public:
    // Ok when a user may change how a room is bridged, else the reason (may call the
    // homeserver: run on the registry's own worker, never on a room queue).
    using RoomPowerCheck = std::function<Result<void>(const UserId& user, const RoomId& room)>;

    // `bridgeName` and `version` are what !version says ("irc bridge, mxbridge 0.3.0").
    // Without `roomPowerCheck`, commands with a roomArg are for admins only.
    CommandRegistryImpl(std::string bridgeName, std::string version, RoomPowerCheck roomPowerCheck = {});
    ~CommandRegistryImpl() override;

    // Replaces a command of the same name (case-insensitive), built-ins included.
    void add(Command command) override;

    // A message `body` from `sender` in the DM `room`. Returns false when it is not a command
    // (does not start with '!'); true when it was answered through `reply`, error or not.
    // Runs the command on the calling thread, except one with a roomArg sent by a non-admin:
    // that one runs on the registry's worker once the sender's power is checked.
    bool handle(const UserId& sender, const RoomId& room, const std::string& body,
                bool senderIsAdmin, std::function<void(std::string)> reply);

    // "a \"b c\" 'd'" -> {a, b c, d}. Backslash escapes the next character. Returns false and
    // sets `error` on an unterminated quote.
    static bool splitArgs(std::string_view text, std::vector<std::string>& out, std::string& error);

    // Waits for commands running on the worker; later ones are refused. Before the bridge stops.
    void stop();

private:
    void run(const Command& command, CommandCall& call);
    std::string helpText(bool senderIsAdmin) const;
    std::string suggestion(const std::string& name, bool senderIsAdmin) const;

    std::string bridgeName_;
    std::string version_;
    Logger log_{"commands"};
    mutable std::mutex mutex_;
    std::map<std::string, Command> commands_;  // by lower-case name, so !help is sorted
    RoomPowerCheck roomPowerCheck_;
    std::atomic<bool> stopped_{false};
    boost::asio::thread_pool checked_{1};  // commands that wait for a power check
};

}  // namespace mxbridge::detail
