// A test bridge with logins, loaded as a plug-in: network "probe", a password flow (a user
// name, then a secret password; "hunter2-it" is the right one). A login's client reports
// connected as soon as it connects. Messages are not bridged anywhere.
#include "mxbridge/connector.h"

namespace mxbridge::test {

namespace {

constexpr const char* kRightPassword = "hunter2-it";

class PasswordLogin final : public LoginProcess {
public:
    Result<LoginStep> start() override {
        LoginStep step;
        step.instructions = "Log in to Probe.";
        step.fields = {LoginField{.id = "username", .label = "User name", .kind = LoginField::Kind::Text,
                                  .required = true, .defaultValue = {}},
                       LoginField{.id = "password", .label = "Password", .kind = LoginField::Kind::Secret,
                                  .required = true, .defaultValue = {}}};
        return step;
    }
    Result<LoginStep> submit(const LoginInput& input) override {
        const Secret<std::string>* password = input.secret("password");
        if (!password || password->reveal() != kRightPassword)
            return Error::permanent("bad_password", "Probe refused that password.");
        LoginStep done;
        done.kind = LoginStep::Kind::Complete;
        Login login;
        login.remoteName = input.value("username");
        login.secret = *password;
        done.login = login;
        return done;
    }
};

class ProbeClient final : public RemoteClient {
public:
    explicit ProbeClient(RemoteClientHandle handle) : handle_(std::move(handle)) {}
    void connect() override { handle_.report({.state = RemoteState::Connected, .reason = {}, .code = {}}); }
    void disconnect() override {}

private:
    RemoteClientHandle handle_;
};

}  // namespace

class LoginProbeConnector final : public Connector, public LoginHandler {
public:
    BridgeInfo info() const override {
        return BridgeInfo{"login-probe", "a bridge with logins, for tests", "lprobe_{id}", "lprobe_{id}",
                          {"probe"}, "Probe"};
    }
    void start(BridgeContext&) override {}
    HookResult onMatrixMessage(const MatrixMessage&) override { return HookResult::ignored(); }

    std::vector<std::string> loginNetworks() const override { return {"probe"}; }
    std::vector<LoginFlow> loginFlows(const std::string&) const override {
        return {LoginFlow{"password", "Password", "user name and password"}};
    }
    std::unique_ptr<LoginProcess> createLogin(const UserId&, const std::string&, const std::string&) override {
        return std::make_unique<PasswordLogin>();
    }
    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override {
        if (login.remoteName.empty()) return nullptr;  // only for users who logged in
        return std::make_unique<ProbeClient>(std::move(handle));
    }
};

MXBRIDGE_BRIDGE(LoginProbeConnector, "login-probe", "a bridge with logins, for tests");

}  // namespace mxbridge::test
