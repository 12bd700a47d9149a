// The framework's own view of stored logins, by LoginKey (owner, network, id): what
// RemoteClients loads at start and what !login, !logout and provisioning change. The public
// UserStore (store.h) addresses a user's only login per network (id ""); this one every login.
// Secrets are sealed at rest by the implementation (SqliteStores: store/secret_box.h).
#pragma once

#include <optional>
#include <vector>

#include "mxbridge/login.h"
#include "mxbridge/store.h"

namespace mxbridge::detail {

class LoginStore {
public:
    virtual ~LoginStore() = default;
    // Adds or replaces the login of (login.user, login.network, login.id).
    virtual void save(const Login& login) = 0;
    virtual std::optional<Login> find(const LoginKey& key) = 0;
    virtual void remove(const LoginKey& key) = 0;
    // One user's logins, by network and id.
    virtual std::vector<Login> ofOwner(const UserId& owner) = 0;
    // Every stored login, by owner, network and id.
    virtual std::vector<Login> all() = 0;
};

inline LoginKey keyOf(const Login& login) { return LoginKey{login.user, login.network, login.id}; }

}  // namespace mxbridge::detail
