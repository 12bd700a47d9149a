// Bot commands in a DM with the bridge bot: parses "!name args", checks permission and the
// argument count, answers !help (generated from what is registered) and !version, and runs
// the command. A throwing command gets an error reply; it never reaches the caller.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/commands.h"
#include "mxbridge/log.h"

namespace mxbridge::detail {

class CommandRegistryImpl final : public CommandRegistry {
public:
    // `bridgeName` and `version` are what !version says ("irc bridge, mxbridge 0.3.0").
    CommandRegistryImpl(std::string bridgeName, std::string version);

    // Replaces a command of the same name (case-insensitive), built-ins included.
    void add(Command command) override;

    // A message `body` from `sender` in the DM `room`. Returns false when it is not a command
    // (does not start with '!'); true when it was answered through `reply`, error or not.
    // Runs the command on the calling thread.
    bool handle(const UserId& sender, const RoomId& room, const std::string& body,
                bool senderIsAdmin, std::function<void(std::string)> reply);

    // "a \"b c\" 'd'" -> {a, b c, d}. Backslash escapes the next character. Returns false and
    // sets `error` on an unterminated quote.
    static bool splitArgs(std::string_view text, std::vector<std::string>& out, std::string& error);

private:
    std::string helpText(bool senderIsAdmin) const;
    std::string suggestion(const std::string& name, bool senderIsAdmin) const;

    std::string bridgeName_;
    std::string version_;
    Logger log_{"commands"};
    mutable std::mutex mutex_;
    std::map<std::string, Command> commands_;  // by lower-case name, so !help is sorted
};

}  // namespace mxbridge::detail
