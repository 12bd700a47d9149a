#include "irc_services_fixture.h"

#include <thread>

#include "harness_error.h"
#include "ports.h"
#include "prosody_fixture.h"  // peersDir()
#include "skip.h"

namespace mxbridge::test {

namespace {

// The peers' folder when it holds both configs; skips the test otherwise.
std::filesystem::path servicesConfigsOrSkip() {
    auto peers = peersDir();
    std::error_code ec;
    if (!peers || !std::filesystem::is_regular_file(*peers / "inspircd-services.conf", ec) ||
        !std::filesystem::is_regular_file(*peers / "atheme.conf", ec))
        skipTest("the peers folder with inspircd-services.conf and atheme.conf is absent (set MXBRIDGE_PEERS_DIR; "
                 "default ../shared/peers beside the checkout)");
    return *peers;
}

}  // namespace

IrcServicesFixture::IrcServicesFixture() {
    // Everything missing is found before anything starts: a skip runs no destructor.
    if (!InspircdFixture::available()) skipTest("inspircd is not installed (apt-get install -y inspircd)");
    auto atheme = findExecutable("atheme-services");
    if (!atheme) skipTest("atheme-services is not installed (apt-get install -y atheme-services)");
    const std::filesystem::path peers = servicesConfigsOrSkip();

    linkPort_ = freePort();
    InspircdOptions ircdOptions;
    ircdOptions.mainConfigTemplate = peers / "inspircd-services.conf";
    ircdOptions.placeholders = {{"@LINKPORT@", std::to_string(linkPort_)}};
    ircd_ = std::make_unique<InspircdFixture>(std::move(ircdOptions));

    std::string config = readFile(peers / "atheme.conf");
    config = replaceAll(std::move(config), "@DIR@", dir_.path().string());
    config = replaceAll(std::move(config), "@LINKPORT@", std::to_string(linkPort_));
    writeFile(dir_ / "atheme.conf", config);
    ProcessOptions options;
    options.argv = {atheme->string(), "-n", "-c", (dir_ / "atheme.conf").string(), "-D", dir_.path().string(),
                    "-l", (dir_ / "atheme.log").string(), "-p", (dir_ / "atheme.pid").string()};
    options.workDir = dir_.path();
    options.logFile = dir_ / "atheme-stdout.log";
    options.name = "atheme";
    atheme_ = std::make_unique<Process>(std::move(options));

    // Linked once the ircd knows NickServ: WHOIS answers 311 instead of 401.
    LineSocket probe = ircd_->connectClient("servicesprobe");
    for (auto deadline = std::chrono::steady_clock::now() + 20s;; std::this_thread::sleep_for(200ms)) {
        probe.writeLine("WHOIS NickServ");
        std::string answer = probe.readUntil(R"( (311|401) servicesprobe NickServ )", 5s);
        if (answer.find(" 311 ") != std::string::npos) break;
        if (std::chrono::steady_clock::now() > deadline)
            throw HarnessError("Atheme did not link to InspIRCd within 20 s\n" + lastLines() + ircd_->lastLines(20));
    }
    probe.writeLine("QUIT");
}

IrcServicesFixture::~IrcServicesFixture() {
    if (atheme_) atheme_->kill9();
    ircd_.reset();
}

void IrcServicesFixture::registerAccount(const std::string& account, const std::string& password) {
    LineSocket client = ircd_->connectClient(account);
    client.writeLine("PRIVMSG NickServ :REGISTER " + password + " " + account + "@users.test");
    try {
        client.readUntil(R"(^:NickServ!\S+ NOTICE )" + account + R"( :.*[Rr]egistered)", 15s);
    } catch (const HarnessError& e) {
        throw HarnessError(std::string("NickServ did not register ") + account + ": " + e.what() + "\n" + lastLines());
    }
    client.writeLine("QUIT :registered");
}

std::string IrcServicesFixture::lastLines(std::size_t n) const {
    return atheme_ ? atheme_->lastLines(n) : std::string("[atheme] (not running)\n");
}

}  // namespace mxbridge::test
