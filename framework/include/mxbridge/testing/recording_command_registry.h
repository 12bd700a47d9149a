// A CommandRegistry for connector tests: records what a connector registers, and runs a "!…"
// message through the framework's own command handling (parsing, quoting, argument count,
// permission, the generated !help), collecting the replies instead of sending notices.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/commands.h"

namespace mxbridge::testing {

// Who sends a command, and where.
struct CommandSender {
    UserId user = UserId("@alice:hs.test");
    RoomId dm = RoomId("!dm:hs.test");
    bool isAdmin = false;
};

class RecordingCommandRegistry final : public CommandRegistry {
public:
    explicit RecordingCommandRegistry(std::string bridgeName);
    ~RecordingCommandRegistry() override;

    void add(Command command) override;

    // Every command added, in order (a re-added name appears again).
    std::vector<Command> registered() const;
    std::optional<Command> find(const std::string& name) const;

    // The replies to `message` ("!join #x"), in order; empty when it is not a command.
    // Commands with a roomArg are for admins only here: the kit has no homeserver to ask
    // for the sender's power level.
    std::vector<std::string> run(const std::string& message, const CommandSender& sender = {});

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mxbridge::testing
