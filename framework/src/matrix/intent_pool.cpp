#include "matrix/intent_pool.h"

namespace mxbridge::detail {

IntentPool::IntentPool(const Database& database, Journal& journal, HomeserverClient& homeserver,
                       Metrics& metrics, UserId botUser, OutboxOptions options,
                       Outbox::SentHook onSent, Outbox::FailureHook onFailure)
    : outbox_(database, journal, homeserver, metrics, std::move(botUser), options, std::move(onSent),
              std::move(onFailure)) {}

IntentImpl& IntentPool::intent(const UserId& user) {
    std::lock_guard lock(mutex_);
    auto& slot = intents_[user];
    if (!slot) slot = std::make_unique<IntentImpl>(user, outbox_);
    return *slot;
}

}  // namespace mxbridge::detail
