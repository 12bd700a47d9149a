// IRCv3 capability negotiation (https://ircv3.net/specs/extensions/capability-negotiation):
// reading CAP LS/ACK/NAK/NEW/DEL and deciding what to request.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/irc/message.h"

namespace mxbridge::irc {

enum class CapEvent {
    Ignored,    // not a CAP message, or a subcommand we don't track
    LsPartial,  // an LS line with more to come ('*')
    LsDone,     // the last LS line: time to request
    Acked,
    Naked,
    New,      // cap-notify: the server added capabilities
    Deleted,  // cap-notify: the server removed capabilities
};

class CapNegotiation {
public:
    // What the bridge can use, in the order it asks for them.
    static const std::vector<std::string>& defaultWanted();

    explicit CapNegotiation(std::vector<std::string> wanted = defaultWanted());

    CapEvent handle(const IrcMessage& msg);

    // Wanted caps the server offers and we have not enabled. "sasl" only when `wantSasl`
    // and the server offers PLAIN (or lists no mechanisms, as CAP 301 servers do).
    std::vector<std::string> toRequest(bool wantSasl) const;
    // CAP REQ lines for toRequest(), each list kept under 400 bytes so the server's reply
    // (which repeats it) fits in one line.
    std::vector<IrcMessage> requestMessages(bool wantSasl) const;

    // Capability name -> value ("" when it has none).
    const std::map<std::string, std::string>& available() const { return available_; }
    bool isEnabled(std::string_view cap) const { return enabled_.count(std::string(cap)) > 0; }
    const std::set<std::string>& enabled() const { return enabled_; }
    // From "sasl=PLAIN,EXTERNAL"; empty when the server gave no list.
    std::vector<std::string> saslMechanisms() const;
    bool lsComplete() const { return lsComplete_; }

private:
    static void addTokens(std::string_view list, std::map<std::string, std::string>& into);

    std::vector<std::string> wanted_;
    std::map<std::string, std::string> available_;
    std::set<std::string> enabled_;
    bool lsComplete_ = false;
};

}  // namespace mxbridge::irc
