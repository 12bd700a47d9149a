// A LoginHandler for the login tests: network "probe" (and "other"), with a "password" flow
// (username, then a secret password; "hunter2" is right) and a "code" flow (a link to open,
// then wait). A step can be made to hang until the login is cancelled, as a bridge stuck on
// its network would.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mxbridge/login.h"

namespace mxbridge::test {

inline constexpr const char* kRightPassword = "hunter2";

struct ProbeLoginState {
    std::mutex mutex;
    std::condition_variable cv;
    bool hang = false;       // submit()/wait() block until cancel()
    int cancels = 0;
    std::vector<std::string> passwordsSeen;  // what submit() received, to prove it arrived
};

class ProbeLoginProcess final : public LoginProcess {
public:
    ProbeLoginProcess(std::shared_ptr<ProbeLoginState> state, std::string flow)
        : state_(std::move(state)), flow_(std::move(flow)) {}

    Result<LoginStep> start() override {
        LoginStep step;
        if (flow_ == "code") {
            step.kind = LoginStep::Kind::DisplayAndWait;
            step.instructions = "Open this link and approve the bridge:";
            step.display = "https://probe.test/approve?c=42";
            return step;
        }
        step.instructions = "Log in to Probe with your account.";
        step.fields = {LoginField{.id = "username", .label = "Your Probe user name", .kind = LoginField::Kind::Text,
                                  .required = true, .defaultValue = {}},
                       LoginField{.id = "password", .label = "Your Probe password", .kind = LoginField::Kind::Secret,
                                  .required = true, .defaultValue = {}}};
        return step;
    }

    Result<LoginStep> submit(const LoginInput& input) override {
        hangIfAsked();
        const Secret<std::string>* password = input.secret("password");
        {
            std::lock_guard lock(state_->mutex);
            state_->passwordsSeen.push_back(password ? password->reveal() : "");
        }
        if (!password || password->reveal() != kRightPassword)
            return Error::permanent("bad_password", "Probe refused the user name or password.");
        return complete(input.value("username"), *password);
    }

    Result<LoginStep> wait() override {
        hangIfAsked();
        return complete("approved-user", Secret<std::string>("token-from-link"));
    }

    void cancel() override {
        std::lock_guard lock(state_->mutex);
        ++state_->cancels;
        cancelled_ = true;
        state_->cv.notify_all();
    }

private:
    void hangIfAsked() {
        std::unique_lock lock(state_->mutex);
        state_->cv.wait(lock, [&] { return !state_->hang || cancelled_; });
    }
    static LoginStep complete(const std::string& name, const Secret<std::string>& secret) {
        LoginStep done;
        done.kind = LoginStep::Kind::Complete;
        Login login;
        login.remoteName = name;
        login.secret = secret;
        done.login = login;
        return done;
    }

    std::shared_ptr<ProbeLoginState> state_;
    std::string flow_;
    bool cancelled_ = false;  // guarded by state_->mutex
};

class ProbeClientOf final : public RemoteClient {
public:
    explicit ProbeClientOf(RemoteClientHandle handle) : handle_(std::move(handle)) {}
    void connect() override {}
    void disconnect() override {}
    const RemoteClientHandle& handle() const { return handle_; }

private:
    RemoteClientHandle handle_;
};

class ProbeLoginHandler final : public LoginHandler {
public:
    std::vector<std::string> loginNetworks() const override { return {"probe", "other"}; }
    std::vector<LoginFlow> loginFlows(const std::string&) const override {
        return {LoginFlow{"password", "Password", "user name and password"},
                LoginFlow{"code", "Link", "approve the bridge in your browser"}};
    }
    std::unique_ptr<LoginProcess> createLogin(const UserId&, const std::string&, const std::string& flow) override {
        return std::make_unique<ProbeLoginProcess>(state, flow);
    }
    // Clients only for stored logins (as a network that needs an account).
    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override {
        if (login.remoteName.empty()) return nullptr;
        auto client = std::make_unique<ProbeClientOf>(handle);
        std::lock_guard lock(mutex);
        handles.push_back(handle);
        return client;
    }
    RemoteClientHandle lastHandle() {
        std::lock_guard lock(mutex);
        return handles.empty() ? RemoteClientHandle() : handles.back();
    }

    std::shared_ptr<ProbeLoginState> state = std::make_shared<ProbeLoginState>();
    std::mutex mutex;
    std::vector<RemoteClientHandle> handles;
};

}  // namespace mxbridge::test
