// Link consent: a Matrix user who is not a channel op asks to link a room to a channel, and the
// bridge bot asks the channel's ops privately ("yes <id>" / "no <id>"). The first op's answer
// decides; a time-out refuses; answers from anyone who is not an op of that channel, or for a
// request that is not waiting, change nothing.
#include <random>

#include "network.h"

namespace mxbridge::irc {

namespace {

std::string minutesText(int seconds) {
    if (seconds % 60 != 0 || seconds < 60) return std::to_string(seconds) + " s";
    return std::to_string(seconds / 60) + (seconds == 60 ? " minute" : " minutes");
}

uint32_t randomWord() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return rng();
}

}  // namespace

bool IrcNetwork::linkedAlready(const Link& link) {
    for (const Link& l : ctx_.links().forRoom(link.room))
        if (l.remote == link.remote) return true;
    return false;
}

Result<void> IrcNetwork::requestLink(LinkAsk ask) {
    std::lock_guard lock(mutex_);
    const std::string folded = foldName(ask.channel);
    auto ch = channels_.find(folded);
    if (const Puppet* p = puppets_.find(ask.requester); p && ch != channels_.end() && ch->second.isOp(foldName(p->nick)))
        return {};
    if (config_.linkConsent == NetworkConfig::LinkConsent::AdminsOnly)
        return Error::permanent("M_FORBIDDEN", "Only bridge admins may link rooms to channels on " + config_.name + ".");
    if (linkedAlready(ask.link))
        return Error::permanent("M_FORBIDDEN", ask.link.room.str() + " is already linked to " + ask.channel + ".");
    for (const auto& [id, p] : consents_)
        if (p.ask.link.room == ask.link.room && p.ask.link.remote == ask.link.remote)
            return Error::permanent(kLinkPending, "Still waiting for an op of " + ask.channel + " to answer request " +
                                                      id + ".");
    std::string id;
    do id = consentId(randomWord);
    while (consents_.count(id));
    PendingConsent& p = consents_[id];
    p.id = id;
    p.channel = folded;
    p.ask = std::move(ask);
    p.timer = std::make_shared<boost::asio::steady_timer>(io_);
    p.timer->expires_after(std::chrono::seconds(config_.linkConsentTimeoutSeconds));
    p.timer->async_wait([this, id](const boost::system::error_code& ec) {
        if (!ec) consentExpired(id);
    });
    log_.info("link request waits for a channel op", {{"request", id}, {"channel", p.ask.channel},
                                                       {"room_id", p.ask.link.room.str()},
                                                       {"user", p.ask.requester.str()}});
    const std::string channel = p.ask.channel;
    ensureChannelLocked(channel);
    ch = channels_.find(folded);
    // Ops are known once the bot has the channel's names; until then the question waits.
    if (ch != channels_.end() && ch->second.namesDone) {
        askOps(p);
        if (!consents_.count(id)) return Error::permanent("M_FORBIDDEN", "Nobody is an op in " + channel +
                                                                             " to approve the link; ask a bridge admin.");
    }
    return Error::permanent(kLinkPending, "Asked the ops of " + channel + " on " + config_.name +
                                              " to approve (request " + id + "). The room is linked when one of "
                                              "them says yes; you will be told either way within " +
                                              minutesText(config_.linkConsentTimeoutSeconds) + ".");
}

void IrcNetwork::askOpsOnceNamed(const std::string& foldedChannel) {
    std::vector<std::string> waiting;
    for (auto& [id, p] : consents_)
        if (p.channel == foldedChannel && !p.asked) waiting.push_back(id);
    for (const std::string& id : waiting) askOps(consents_.at(id));
}

void IrcNetwork::askOps(PendingConsent& p) {
    p.asked = true;
    auto ch = channels_.find(p.channel);
    if (ch != channels_.end())
        for (const auto& [folded, m] : ch->second.members)
            if (ch->second.isOp(folded) && !isBotNick(m.nick) && !isPuppetNick(folded))
                p.askedOps[folded] = m.nick;
    if (p.askedOps.empty()) {
        p.timer->cancel();
        p.ask.tell("Nobody is an op in " + p.ask.channel + " on " + config_.name + " to approve linking " +
                   p.ask.link.room.str() + "; it was not linked. Ask a bridge admin.");
        consents_.erase(p.id);
        return;
    }
    const std::string question = p.ask.requester.str() + " on Matrix asks to bridge " + p.ask.channel +
                                 " to the Matrix room " + p.ask.link.room.str() + ". Reply \"yes " + p.id +
                                 "\" to me to approve, or \"no " + p.id + "\" to refuse, within " +
                                 minutesText(config_.linkConsentTimeoutSeconds) + ".";
    for (const auto& [folded, op] : p.askedOps) bot_.send(build::privmsg(op, question));
}

void IrcNetwork::onConsentAnswer(const std::string& nick, const std::string& text) {
    auto answer = parseConsentAnswer(text);
    if (!answer) return;  // not for us: private chatter to the bot has no reader
    auto it = consents_.find(answer->id);
    if (it == consents_.end()) {
        bot_.send(build::notice(nick, "No link request \"" + answer->id + "\" is waiting (answered or expired)."));
        return;
    }
    PendingConsent& p = it->second;
    auto ch = channels_.find(p.channel);
    if (ch == channels_.end() || !ch->second.isOp(foldName(nick)) || isPuppetNick(foldName(nick))) {
        log_.info("link answer from a non-op ignored", {{"request", p.id}, {"nick", nick}, {"channel", p.ask.channel}});
        bot_.send(build::notice(nick, "Only ops of " + p.ask.channel + " can answer request " + p.id +
                                          "; your answer changes nothing."));
        return;
    }
    PendingConsent done = std::move(p);
    consents_.erase(it);
    done.timer->cancel();
    log_.info(answer->approve ? "link approved by a channel op" : "link refused by a channel op",
              {{"request", done.id}, {"nick", nick}, {"channel", done.ask.channel},
               {"room_id", done.ask.link.room.str()}});
    const std::string verdict = answer->approve ? "approved" : "refused";
    for (const auto& [folded, op] : done.askedOps)
        if (folded != foldName(nick)) bot_.send(build::notice(op, "Request " + done.id + " was " + verdict + " by " + nick + "."));
    if (!answer->approve) {
        bot_.send(build::notice(nick, "Refused; " + done.ask.requester.str() + " is told."));
        done.ask.tell(nick + ", an op of " + done.ask.channel + ", refused to link " + done.ask.link.room.str() +
                      ". It was not linked.");
        return;
    }
    ctx_.links().link(done.ask.link);
    ctx_.bot().join(done.ask.link.room);
    refreshMembersLocked(done.ask.channel);
    bot_.send(build::notice(nick, done.ask.channel + " is now bridged to " + done.ask.link.room.str() + ". Thanks."));
    done.ask.tell(nick + ", an op of " + done.ask.channel + ", approved: " + done.ask.link.room.str() +
                  " is now linked to " + done.ask.channel + " on " + config_.name + ".");
}

void IrcNetwork::consentExpired(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = consents_.find(id);
    if (it == consents_.end() || stopped_) return;
    PendingConsent done = std::move(it->second);
    consents_.erase(it);
    log_.info("link request timed out", {{"request", id}, {"channel", done.ask.channel}});
    for (const auto& [folded, op] : done.askedOps) bot_.send(build::notice(op, "Request " + id + " expired."));
    done.ask.tell("No op of " + done.ask.channel + " answered within " +
                  minutesText(config_.linkConsentTimeoutSeconds) + ", so " + done.ask.link.room.str() +
                  " was not linked. Try again later, or ask a bridge admin.");
}

}  // namespace mxbridge::irc
