// Logins in progress: one per Matrix user, whether it runs in their DM with the bot or
// through provisioning. Drives the connector's LoginProcess step by step, stores the login
// when it completes (RemoteClientsImpl::loggedIn) and ends it when the user gives up, starts
// another, or takes longer than login.step_timeout_seconds to answer. A call into the
// process that outlasts the same time ends the login too: the user is told at once,
// LoginProcess::cancel() is called, and what the call returns later is dropped, never stored.
//
// Secrets: what the user typed travels in the LoginInput handed to submit() and is gone
// when that call returns; a session keeps only the step it shows (labels, never answers).
// Nothing here logs or counts a value the user gave.
//
// start(), submit() and wait() block while the process works (up to the step time-out):
// call them off every room queue (the DM's login workers, a provisioning worker).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "login/remote_clients_impl.h"
#include "mxbridge/connector.h"
#include "mxbridge/login.h"
#include "mxbridge/metrics.h"

namespace mxbridge::detail {

// The error code of a call whose login ended meanwhile (cancelled, replaced, timed out): the
// user has been told already, so a driver shows nothing more.
inline constexpr const char* kLoginEnded = "login_ended";

// What the user is shown after a call: the next step, or the login that was stored.
struct LoginPrompt {
    std::string sessionId;
    std::string network;
    LoginStep::Kind kind = LoginStep::Kind::Fields;
    std::string instructions;
    std::vector<LoginField> fields;  // Fields
    std::string display;             // DisplayAndWait
    std::optional<LoginKey> stored;  // Complete: the key of the login now stored
    std::string remoteName;          // Complete: the account, as the network named it
};

class LoginSessions {
public:
    using Schedule = std::function<TimerHandle(std::chrono::milliseconds, std::function<void()>)>;
    // Tells the user of one session that it ended without them (time-out): their DM, or nothing.
    using TellUser = std::function<void(const std::string& sessionId, const std::string& text)>;

    struct Deps {
        RemoteClientsImpl& clients;  // its handler makes the processes; nullptr handler: no logins
        Schedule schedule;
        std::chrono::milliseconds stepTimeout{120'000};
        std::string networkName = "the network";  // the bridge's, e.g. "IRC", for messages
        Metrics& metrics;
        Logger log{"logins"};
    };

    explicit LoginSessions(Deps deps);
    ~LoginSessions();
    LoginSessions(const LoginSessions&) = delete;
    LoginSessions& operator=(const LoginSessions&) = delete;

    // Starts `owner`'s login to `network` (empty: the bridge's first) with `flowId` (empty:
    // the network's first), ending any login they had in progress. Fails with a message for
    // the user: no logins on this bridge, an unknown network or flow, the process's error.
    Result<LoginPrompt> start(const UserId& owner, const std::string& network, const std::string& flowId,
                              TellUser tell);
    // The answers to a Fields step of the session `sessionId` (empty: the owner's current one).
    Result<LoginPrompt> submit(const UserId& owner, const std::string& sessionId, LoginInput input);
    // After a DisplayAndWait step: waits until the user did what was shown.
    Result<LoginPrompt> wait(const UserId& owner, const std::string& sessionId);
    // Ends `owner`'s login in progress. False when there was none.
    bool cancel(const UserId& owner);
    // The step `owner`'s login waits at, if one is in progress and not busy.
    std::optional<LoginPrompt> pending(const UserId& owner);
    // Ends every login in progress (shutdown).
    void stop();

    // "libera, oftc": the networks one can log in to, for messages.
    std::vector<std::string> networks() const;

private:
    struct Session;
    using Call = std::function<Result<LoginStep>(LoginProcess&)>;

    Result<LoginPrompt> call(const UserId& owner, const std::string& sessionId, const Call& op);
    Result<LoginPrompt> after(const UserId& owner, const std::shared_ptr<Session>& s, Result<LoginStep> step);
    void expire(const UserId& owner, const std::shared_ptr<Session>& s, const std::string& why);
    // Takes `s` out of the table if it is still `owner`'s current session.
    bool detach(const UserId& owner, const std::shared_ptr<Session>& s);
    void count(const char* outcome);
    static LoginPrompt promptOf(const Session& s, const LoginStep& step);

    Deps deps_;
    std::mutex mutex_;
    std::map<UserId, std::shared_ptr<Session>> sessions_;
};

}  // namespace mxbridge::detail
