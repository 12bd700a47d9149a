// InspIRCd with Atheme services linked to it over m_spanningtree, on 127.0.0.1, for tests of
// IRC accounts: NickServ REGISTER/IDENTIFY and SASL PLAIN. Configured from the peers folder
// (MXBRIDGE_PEERS_DIR, default ../shared/peers beside the checkout): inspircd-services.conf
// around tests/fixtures/inspircd.conf, and atheme.conf; each run gets fresh ports and a fresh
// services database. Both daemons are this fixture's children, killed by their pids.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ircd_fixture.h"
#include "process.h"
#include "temp_dir.h"

namespace mxbridge::test {

class IrcServicesFixture {
public:
    // Starts both and waits until NickServ answers on the ircd. Exits the test as skipped (77)
    // when inspircd, atheme-services or the peers' configs are missing.
    IrcServicesFixture();
    ~IrcServicesFixture();
    IrcServicesFixture(const IrcServicesFixture&) = delete;
    IrcServicesFixture& operator=(const IrcServicesFixture&) = delete;

    InspircdFixture& ircd() { return *ircd_; }
    std::uint16_t port() const { return ircd_->port(); }

    // Registers the account `account` with NickServ, from a raw client of that nick that
    // then quits. Throws HarnessError when NickServ does not confirm within 15 s.
    void registerAccount(const std::string& account, const std::string& password);

    // The services' last log lines, for failure messages.
    std::string lastLines(std::size_t n = 20) const;

private:
    TempDir dir_{"mxbridge-atheme"};
    std::uint16_t linkPort_ = 0;
    std::unique_ptr<InspircdFixture> ircd_;
    std::unique_ptr<Process> atheme_;
};

}  // namespace mxbridge::test
