// The IQs we sent that wait for their answer (RFC 6120 §8.2.3: every get/set gets exactly one
// result or error). An answer is matched on its id and on coming from the address the request
// went to, so nobody else can answer for it; each request has a deadline, and when the stream
// goes down every waiting request is told at once instead of waiting for a reply that cannot
// come on the new stream. Not thread-safe: the connection's loop owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "mxbridge/xmpp/element.h"
#include "mxbridge/xmpp/stanza.h"

namespace mxbridge::xmpp {

enum class IqOutcome {
    Result,        // type='result' came back
    Error,         // type='error' came back: see `error`
    Timeout,       // nothing came back before the deadline
    Disconnected,  // the stream went down first
    Stopped,       // the connection was stopped (or never connected)
};

struct IqResponse {
    IqOutcome outcome = IqOutcome::Result;
    Element stanza;     // the answer for Result and Error; empty otherwise
    StanzaError error;  // for everything but Result: what went wrong, in stanza-error terms
};

using IqCallback = std::function<void(const IqResponse&)>;

class IqTracker {
public:
    using Clock = std::chrono::steady_clock;

    // Waits for the answer to the IQ with `id`, sent to `to` ("" when sent without one: then
    // an answer from anyone counts). False (and nothing registered) when `id` is waiting already.
    bool add(std::string id, std::string to, Clock::time_point deadline, IqCallback callback);
    // A received IQ of type result or error: true when it answered a waiting request, whose
    // callback has run. Anything else, or an answer from the wrong address, returns false.
    bool handle(const Element& iq);
    // Runs the callbacks (Timeout) of the requests whose deadline is at or before `now`.
    void expire(Clock::time_point now);
    // Runs every waiting callback with `outcome` (Disconnected or Stopped) and `why`.
    void failAll(IqOutcome outcome, const std::string& why);
    // Forgets a request without calling it back (its stanza was never sent).
    void forget(const std::string& id) { pending_.erase(id); }

    std::optional<Clock::time_point> nextDeadline() const;
    std::size_t pending() const { return pending_.size(); }
    bool waitingFor(const std::string& id) const { return pending_.count(id) != 0; }

private:
    struct Pending {
        std::string to;
        Clock::time_point deadline;
        IqCallback callback;
    };
    std::map<std::string, Pending> pending_;
};

}  // namespace mxbridge::xmpp
