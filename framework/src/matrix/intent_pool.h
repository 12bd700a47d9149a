// Hands out the intent for any user the bridge acts as (the bot, ghosts), created on first
// use, and owns the outbox they all queue into.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "matrix/intent_impl.h"
#include "matrix/outbox.h"

namespace mxbridge::detail {

class IntentPool {
public:
    IntentPool(const Database& database, Journal& journal, HomeserverClient& homeserver,
               Metrics& metrics, UserId botUser, OutboxOptions options = {},
               Outbox::SentHook onSent = {}, Outbox::FailureHook onFailure = {});

    void start() { outbox_.start(); }
    void stop() { outbox_.stop(); }

    IntentImpl& bot() { return intent(outbox_.botUser()); }
    // Thread-safe; the reference stays valid for the pool's lifetime.
    IntentImpl& intent(const UserId& user);
    Outbox& outbox() { return outbox_; }

private:
    Outbox outbox_;
    std::mutex mutex_;
    std::unordered_map<UserId, std::unique_ptr<IntentImpl>> intents_;
};

}  // namespace mxbridge::detail
