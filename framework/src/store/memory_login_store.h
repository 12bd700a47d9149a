// Logins kept in memory, for the testing kit's fake context and unit tests: the LoginStore
// contract (one login per key, replaced on save) without a database or a secret key.
#pragma once

#include <map>
#include <mutex>

#include "store/login_store.h"

namespace mxbridge::detail {

class MemoryLoginStore final : public LoginStore {
public:
    void save(const Login& login) override {
        std::lock_guard lock(mutex_);
        logins_.insert_or_assign(keyOf(login), login);
    }
    std::optional<Login> find(const LoginKey& key) override {
        std::lock_guard lock(mutex_);
        auto it = logins_.find(key);
        if (it == logins_.end()) return std::nullopt;
        return it->second;
    }
    void remove(const LoginKey& key) override {
        std::lock_guard lock(mutex_);
        logins_.erase(key);
    }
    std::vector<Login> ofOwner(const UserId& owner) override {
        std::lock_guard lock(mutex_);
        std::vector<Login> out;
        for (const auto& [key, login] : logins_)
            if (key.owner == owner) out.push_back(login);
        return out;
    }
    std::vector<Login> all() override {
        std::lock_guard lock(mutex_);
        std::vector<Login> out;
        for (const auto& [_, login] : logins_) out.push_back(login);
        return out;
    }

private:
    std::mutex mutex_;
    std::map<LoginKey, Login> logins_;  // ordered by owner, network, id
};

}  // namespace mxbridge::detail
