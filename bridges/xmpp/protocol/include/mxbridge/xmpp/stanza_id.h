// Ids for the stanzas we send ('id' of iq/message/presence): unique within the process and
// across restarts, and not guessable from outside, so an IQ result cannot be forged for a
// request someone else did not see.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace mxbridge::xmpp {

class StanzaIdGenerator {
public:
    // A fresh random prefix (64 bits from std::random_device, the kernel's CSPRNG on Linux).
    StanzaIdGenerator();
    // "<prefix>-<counter>": prefix in hex, counter in decimal. Thread-safe.
    std::string next();
    const std::string& prefix() const { return prefix_; }

private:
    std::string prefix_;
    std::atomic<std::uint64_t> counter_{0};
};

}  // namespace mxbridge::xmpp
