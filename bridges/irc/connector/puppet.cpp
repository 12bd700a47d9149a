// One Matrix user's IRC connection (see puppet.h).
#include "puppet.h"

#include "mapping.h"

namespace mxbridge::irc {

void Puppet::connect() {
    if (state == ConnectionState::Stopped) conn.start();
}

void Puppet::joinOnce(const std::string& channel, const std::string& key) {
    std::string folded = foldName(channel);
    if (channels.count(folded)) return;
    channels[folded] = key;
    conn.join(channel, key);
}

void Puppet::stateChanged(const StateChange& change) {
    stateReason = change.reason;
    if (change.state == ConnectionState::Connected) downSince.reset();
    else if (!downSince && change.state != ConnectionState::Connecting && change.state != ConnectionState::Registering)
        downSince = Clock::now();
}

std::optional<HookResult> Puppet::unusable(const std::string& network, std::chrono::seconds deadAfter) const {
    if (state == ConnectionState::Banned)
        return HookResult::failed(
            Error::permanent("irc_banned", "Your IRC connection is banned from " + network + ": " + stateReason));
    if (state == ConnectionState::BadCredentials)
        return HookResult::failed(Error::permanent(
            "irc_bad_credentials", "The IRC server refused your credentials: " + stateReason +
                                       ". Log in again with !login " + network + ", or store the right password with !storepass."));
    if (downSince && Clock::now() - *downSince > deadAfter)
        return HookResult::failed(Error::transient(
            "irc_disconnected", "Your IRC connection to " + network + " has been down since a while: " + stateReason));
    return std::nullopt;
}

}  // namespace mxbridge::irc
