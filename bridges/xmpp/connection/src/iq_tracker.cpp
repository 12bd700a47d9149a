#include "mxbridge/xmpp/iq_tracker.h"

#include <vector>

#include "mxbridge/xmpp/jid.h"

namespace mxbridge::xmpp {

namespace {

// Whether `from` names the entity the request went `to`: equal JIDs after normalisation (a
// server may write the domain in other case), or equal strings when either is no JID.
bool sameAddress(std::string_view from, std::string_view to) {
    auto a = Jid::parse(from);
    auto b = Jid::parse(to);
    if (a && b) return *a == *b;
    return from == to;
}

}  // namespace

bool IqTracker::add(std::string id, std::string to, Clock::time_point deadline, IqCallback callback) {
    return pending_.try_emplace(std::move(id), Pending{.to = std::move(to), .deadline = deadline,
                                                       .callback = std::move(callback)})
        .second;
}

bool IqTracker::handle(const Element& iq) {
    auto type = iq.attr("type");
    if (iq.name() != "iq" || (type != "result" && type != "error")) return false;
    auto it = pending_.find(std::string(iq.attrOr("id")));
    if (it == pending_.end()) return false;
    if (!it->second.to.empty() && !sameAddress(iq.attrOr("from"), it->second.to)) return false;
    // Taken out before the callback runs: it may send (and so add) another IQ.
    IqCallback callback = std::move(it->second.callback);
    pending_.erase(it);
    IqResponse response;
    response.stanza = iq;
    if (type == "error") {
        response.outcome = IqOutcome::Error;
        response.error = parseStanzaError(iq).value_or(StanzaError{});
    }
    if (callback) callback(response);
    return true;
}

void IqTracker::expire(Clock::time_point now) {
    std::vector<IqCallback> due;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
            due.push_back(std::move(it->second.callback));
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    IqResponse response;
    response.outcome = IqOutcome::Timeout;
    response.error = StanzaError{.type = "wait", .condition = "remote-server-timeout",
                                 .text = "no answer before the deadline"};
    for (auto& callback : due)
        if (callback) callback(response);
}

void IqTracker::failAll(IqOutcome outcome, const std::string& why) {
    auto waiting = std::move(pending_);
    pending_.clear();
    IqResponse response;
    response.outcome = outcome;
    response.error = StanzaError{.type = "wait", .condition = "remote-server-not-found", .text = why};
    for (auto& [id, p] : waiting)
        if (p.callback) p.callback(response);
}

std::optional<IqTracker::Clock::time_point> IqTracker::nextDeadline() const {
    std::optional<Clock::time_point> earliest;
    for (const auto& [id, p] : pending_)
        if (!earliest || p.deadline < *earliest) earliest = p.deadline;
    return earliest;
}

}  // namespace mxbridge::xmpp
