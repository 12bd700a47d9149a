#include "login/login_sessions.h"

#include <algorithm>
#include <random>

namespace mxbridge::detail {

struct LoginSessions::Session {
    std::string id;
    std::string network;
    std::string flowId;
    std::shared_ptr<LoginProcess> process;  // shared with a call in flight
    TellUser tell;
    std::optional<LoginStep> step;  // what the user is shown; labels only, never answers
    bool busy = false;              // a call into the process is running
    TimerHandle answerTimer;        // the user's time to answer `step`
};

namespace {

std::string newSessionId() {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 16; ++i) id += kHex[random() % 16];
    return id;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

LoginSessions::LoginSessions(Deps deps) : deps_(std::move(deps)) {}

LoginSessions::~LoginSessions() { stop(); }

std::vector<std::string> LoginSessions::networks() const {
    LoginHandler* handler = deps_.clients.handler();
    return handler ? handler->loginNetworks() : std::vector<std::string>{};
}

void LoginSessions::count(const char* outcome) {
    deps_.metrics.counter("mxbridge_logins_total", "Login flows ended, by outcome", {{"outcome", outcome}}).inc();
}

LoginPrompt LoginSessions::promptOf(const Session& s, const LoginStep& step) {
    return LoginPrompt{.sessionId = s.id, .network = s.network, .kind = step.kind,
                       .instructions = step.instructions, .fields = step.fields, .display = step.display,
                       .stored = std::nullopt, .remoteName = {}};
}

Result<LoginPrompt> LoginSessions::start(const UserId& owner, const std::string& network,
                                         const std::string& flowId, TellUser tell) {
    LoginHandler* handler = deps_.clients.handler();
    if (!handler)
        return Error::permanent("no_logins", "The " + deps_.networkName +
                                                 " bridge has no logins: you cannot log in to it with an account of your own.");
    std::vector<std::string> networks = handler->loginNetworks();
    if (networks.empty()) return Error::permanent("no_logins", "There is no network to log in to on this bridge.");
    std::string chosen = network.empty() ? networks.front() : network;
    if (std::find(networks.begin(), networks.end(), chosen) == networks.end())
        return Error::permanent("unknown_network", "There is no network \"" + chosen +
                                                       "\" to log in to. You can log in to: " + joined(networks) + ".");
    std::vector<LoginFlow> flows = handler->loginFlows(chosen);
    if (flows.empty()) return Error::permanent("no_flows", "There is no way to log in to " + chosen + " yet.");
    std::string flow = flowId.empty() ? flows.front().id : flowId;
    bool known = false;
    std::vector<std::string> flowIds;
    for (const LoginFlow& f : flows) {
        known = known || f.id == flow;
        flowIds.push_back(f.id);
    }
    if (!known)
        return Error::permanent("unknown_flow", "There is no way \"" + flow + "\" to log in to " + chosen +
                                                    ". There is: " + joined(flowIds) + ".");
    cancel(owner);  // a new !login replaces the one in progress

    std::unique_ptr<LoginProcess> process;
    try {
        process = handler->createLogin(owner, chosen, flow);
    } catch (const std::exception& e) {
        deps_.log.error("the bridge could not start a login", {{"user", owner.str()}, {"network", chosen}, {"error", e.what()}});
    }
    if (!process) return Error::permanent("login_unavailable", "Logging in to " + chosen + " is not possible right now.");

    auto s = std::make_shared<Session>();
    s->id = newSessionId();
    s->network = chosen;
    s->flowId = flow;
    s->process = std::move(process);
    s->tell = std::move(tell);
    {
        std::lock_guard lock(mutex_);
        sessions_[owner] = s;
    }
    deps_.log.info("login started", {{"user", owner.str()}, {"network", chosen}, {"flow", flow}});
    return call(owner, s->id, [](LoginProcess& p) { return p.start(); });
}

Result<LoginPrompt> LoginSessions::submit(const UserId& owner, const std::string& sessionId, LoginInput input) {
    // The input (and its secrets) lives in this frame only: moved into the call, freed on return.
    auto shared = std::make_shared<LoginInput>(std::move(input));
    Result<LoginPrompt> result = call(owner, sessionId, [shared](LoginProcess& p) {
        Result<LoginStep> step = p.submit(*shared);
        *shared = LoginInput{};
        return step;
    });
    return result;
}

Result<LoginPrompt> LoginSessions::wait(const UserId& owner, const std::string& sessionId) {
    return call(owner, sessionId, [](LoginProcess& p) { return p.wait(); });
}

Result<LoginPrompt> LoginSessions::call(const UserId& owner, const std::string& sessionId, const Call& op) {
    std::shared_ptr<Session> s;
    TimerHandle answered;
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(owner);
        if (it == sessions_.end() || (!sessionId.empty() && it->second->id != sessionId))
            return Error::permanent("M_NOT_FOUND", "There is no login in progress (it may have timed out). "
                                                   "Start again with !login.");
        s = it->second;
        if (s->busy) return Error::transient("busy", "Your login is still being checked; wait for its answer.");
        s->busy = true;
        answered = std::move(s->answerTimer);
    }
    answered.cancel();  // outside the lock: cancel() waits for a running expiry, which takes it
    // The bridge may block here; if it takes too long the user hears so now, not when it returns.
    TimerHandle watchdog = deps_.schedule(deps_.stepTimeout, [this, owner, s] {
        expire(owner, s, "checking took longer than login.step_timeout_seconds");
    });
    Result<LoginStep> step = Error::permanent("login_failed", "The login failed.");
    try {
        step = op(*s->process);
    } catch (const std::exception& e) {
        deps_.log.error("a login step threw", {{"user", owner.str()}, {"network", s->network}, {"error", e.what()}});
        step = Error::permanent("login_failed", "The login failed inside the bridge.");
    }
    watchdog.cancel();
    return after(owner, s, std::move(step));
}

Result<LoginPrompt> LoginSessions::after(const UserId& owner, const std::shared_ptr<Session>& s,
                                         Result<LoginStep> step) {
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(owner);
        if (it == sessions_.end() || it->second != s) {
            // Timed out or cancelled while the bridge worked: whatever it says is not acted on.
            return Error::permanent(kLoginEnded, "This login was cancelled or timed out; nothing was stored.");
        }
        if (step && step->kind != LoginStep::Kind::Complete) {
            s->step = *step;
            s->busy = false;
        } else {
            sessions_.erase(it);
        }
    }
    if (!step) {
        count("failed");
        deps_.log.info("login failed", {{"user", owner.str()}, {"network", s->network}, {"code", step.error().code}});
        return step.error();
    }
    if (step->kind != LoginStep::Kind::Complete) {
        TimerHandle timer = deps_.schedule(deps_.stepTimeout, [this, owner, s] {
            expire(owner, s, "no answer within login.step_timeout_seconds");
        });
        std::lock_guard lock(mutex_);
        s->answerTimer = std::move(timer);
        return promptOf(*s, *step);
    }
    if (!step->login) {
        count("failed");
        deps_.log.error("a login completed without saying which account", {{"user", owner.str()}, {"network", s->network}});
        return Error::permanent("login_failed", "The bridge finished the login without an account; nothing was stored.");
    }
    Login login = std::move(*step->login);
    login.user = owner;  // the framework's to say, whatever the process filled in
    login.network = s->network;
    try {
        deps_.clients.loggedIn(login);
    } catch (const std::exception& e) {
        count("failed");
        deps_.log.error("a completed login could not be stored", {{"user", owner.str()}, {"network", s->network},
                                                                  {"error", e.what()}});
        return Error::permanent("login_not_stored", std::string("The login worked but could not be stored: ") + e.what());
    }
    count("completed");
    deps_.log.info("login completed", {{"user", owner.str()}, {"network", s->network}, {"login", login.id}});
    LoginPrompt done = promptOf(*s, *step);
    done.stored = keyOf(login);
    done.remoteName = login.remoteName;
    return done;
}

bool LoginSessions::detach(const UserId& owner, const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(owner);
    if (it == sessions_.end() || it->second != s) return false;
    sessions_.erase(it);
    return true;
}

void LoginSessions::expire(const UserId& owner, const std::shared_ptr<Session>& s, const std::string& why) {
    if (!detach(owner, s)) return;
    count("timed_out");
    deps_.log.info("login timed out", {{"user", owner.str()}, {"network", s->network}, {"reason", why}});
    try {
        s->process->cancel();
    } catch (const std::exception& e) {
        deps_.log.warn("cancelling a login threw", {{"user", owner.str()}, {"error", e.what()}});
    }
    if (s->tell) {
        s->tell(s->id, "Your login to " + s->network + " timed out after " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(deps_.stepTimeout).count()) +
                           " seconds; nothing was stored. Send !login " + s->network + " to start again.");
    }
}

bool LoginSessions::cancel(const UserId& owner) {
    std::shared_ptr<Session> s;
    TimerHandle timer;
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(owner);
        if (it == sessions_.end()) return false;
        s = std::move(it->second);
        sessions_.erase(it);
        timer = std::move(s->answerTimer);
    }
    timer.cancel();
    count("cancelled");
    deps_.log.info("login cancelled", {{"user", owner.str()}, {"network", s->network}});
    try {
        s->process->cancel();
    } catch (const std::exception& e) {
        deps_.log.warn("cancelling a login threw", {{"user", owner.str()}, {"error", e.what()}});
    }
    return true;
}

std::optional<LoginPrompt> LoginSessions::pending(const UserId& owner) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(owner);
    if (it == sessions_.end() || it->second->busy || !it->second->step) return std::nullopt;
    return promptOf(*it->second, *it->second->step);
}

void LoginSessions::stop() {
    std::vector<UserId> owners;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [owner, _] : sessions_) owners.push_back(owner);
    }
    for (const UserId& owner : owners) cancel(owner);
}

}  // namespace mxbridge::detail
