// RecordingCommandRegistry: the framework's CommandRegistryImpl behind a recorder, so a
// connector's commands are answered exactly as the bridge bot would answer them.
#include "mxbridge/testing/recording_command_registry.h"

#include "ops/command_registry_impl.h"

namespace mxbridge::testing {

class RecordingCommandRegistry::Impl {
public:
    explicit Impl(std::string bridgeName) : registry(std::move(bridgeName), "testing-kit") {}
    detail::CommandRegistryImpl registry;
    mutable std::mutex mutex;
    std::vector<Command> registered;
};

RecordingCommandRegistry::RecordingCommandRegistry(std::string bridgeName)
    : impl_(std::make_unique<Impl>(std::move(bridgeName))) {}

RecordingCommandRegistry::~RecordingCommandRegistry() { impl_->registry.stop(); }

void RecordingCommandRegistry::add(Command command) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->registered.push_back(command);
    }
    impl_->registry.add(std::move(command));
}

std::vector<Command> RecordingCommandRegistry::registered() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->registered;
}

std::optional<Command> RecordingCommandRegistry::find(const std::string& name) const {
    std::lock_guard lock(impl_->mutex);
    for (auto it = impl_->registered.rbegin(); it != impl_->registered.rend(); ++it)
        if (it->name == name) return *it;
    return std::nullopt;
}

std::vector<std::string> RecordingCommandRegistry::run(const std::string& message,
                                                       const CommandSender& sender) {
    // Replies may come from another thread (a command answering later); collected under a lock.
    auto replies = std::make_shared<std::pair<std::mutex, std::vector<std::string>>>();
    impl_->registry.handle(sender.user, sender.dm, message, sender.isAdmin, [replies](std::string text) {
        std::lock_guard lock(replies->first);
        replies->second.push_back(std::move(text));
    });
    std::lock_guard lock(replies->first);
    return replies->second;
}

}  // namespace mxbridge::testing
