// Logins through the provisioning API (same listener, same shared secret), for integration
// managers and apps that log users in without the DM:
//
//   GET    /logins?user_id=                    {"logins":[{network, login_id, remote_name,
//                                                state, reason, since}], "in_progress": step?}
//   POST   /login/start {user_id, network?, flow?}                -> step
//   POST   /login/step  {user_id, session_id, values?}            -> step
//          (values: the answers to a "fields" step, by field id; none after a
//           "display_and_wait" step: the call returns once the user did what was shown)
//   DELETE /login       {user_id, network, login_id?} (or the query) -> {}
//
// A step is {"session_id", "network", "type": "fields"|"display_and_wait"|"complete",
// "instructions", "fields": [{id, label, kind, required, default}], "display",
// "login": {network, login_id, remote_name}} (login only when complete). Errors are
// {errcode, error, code}: 400 M_MISSING_PARAM/M_INVALID_PARAM/M_BAD_JSON, 403 M_FORBIDDEN (the
// network refused), 404 M_NOT_FOUND (no such login, none in progress), 404 M_UNRECOGNIZED (the
// bridge has no logins), 409 (a step is being checked), 500 (the login could not be stored).
// A step's secrets are never echoed in an answer or logged.
#pragma once

#include "login/login_sessions.h"
#include "login/remote_clients_impl.h"
#include "ops/provisioning_api.h"
#include "ops/remote_state_tracker.h"
#include "store/login_store.h"

namespace mxbridge::detail {

class LoginProvisioning {
public:
    struct Deps {
        LoginSessions& sessions;
        RemoteClientsImpl& clients;
        LoginStore& store;
        RemoteStateTracker& states;
    };
    explicit LoginProvisioning(Deps deps) : deps_(deps) {}

    // Adds the endpoints above to `api`.
    void registerIn(ProvisioningApi& api);

    ProvisioningReply listLogins(const ProvisioningRequest& request);
    ProvisioningReply start(const ProvisioningRequest& request);
    ProvisioningReply step(const ProvisioningRequest& request);
    ProvisioningReply remove(const ProvisioningRequest& request);

private:
    Deps deps_;
};

}  // namespace mxbridge::detail
