// Bot commands, in a direct chat with the bridge bot: "!join #matrix". The framework parses,
// checks permission and generates !help from what is registered; a bridge adds its own.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mxbridge/ids.h"

namespace mxbridge {

enum class Permission { User, Admin };

struct CommandCall {
    UserId sender;
    RoomId room;                     // the DM with the bot
    std::vector<std::string> args;   // split on spaces, "quoted words" kept together
    std::string rawArgs;             // everything after the command name
    bool senderIsAdmin = false;
    // Answers in the DM as a notice. May be called more than once, from any thread.
    std::function<void(const std::string& text)> reply;
};

struct Command {
    std::string name;      // without the "!"
    std::string syntax;    // "<#channel> [key]", shown by !help
    std::string help;      // one line
    Permission permission = Permission::User;
    size_t minArgs = 0;
    std::function<void(CommandCall&)> run;
    // For a command that changes how a Matrix room is bridged (e.g. !link <!room> ...): the
    // index of the argument naming that room. The framework then runs the command only for
    // bridge admins and for users whose power level in that room is at least its
    // state_default, and answers anyone else with the reason. Such a command runs on a
    // framework worker thread, after the homeserver was asked, not on the DM's room queue.
    static constexpr size_t kNoRoomArg = static_cast<size_t>(-1);
    size_t roomArg = kNoRoomArg;
};

class CommandRegistry {
public:
    virtual ~CommandRegistry() = default;
    // Replaces a command of the same name.
    virtual void add(Command command) = 0;
};

}  // namespace mxbridge
