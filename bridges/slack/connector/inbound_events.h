// What Matrix sees of one Slack event: a handler per (type, subtype) turns it into the
// framework's RemoteEvent, or into nothing when the bridge does not carry it (yet) or it is
// the bridge's own post coming back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/remote_events.h"
#include "mxbridge/slack/event_envelope.h"

namespace mxbridge::slack {

// Who the bridge is on Slack (auth.test): its own posts come back as events and must not be
// bridged again.
struct SelfIdentity {
    std::string botUserId;  // U…
    std::string botId;      // B…
    std::string teamId{};   // T…: the workspace; logins must be for the same one
};

// Slack users as ghosts (users.info, cached by the caller).
class SenderDirectory {
public:
    virtual ~SenderDirectory() = default;
    virtual RemoteSender sender(const std::string& userId) = 0;
    // The name a mention of `userId` shows; empty when unknown.
    virtual std::string nameOf(std::string_view userId) = 0;
    // The Matrix user id of `userId`'s ghost, for pills; nullopt writes the mention as text.
    virtual std::optional<std::string> ghostMatrixId(std::string_view) { return std::nullopt; }
    // The bytes of a shared file (an entry of a message's `files`); nullopt when they cannot
    // be had (too large, gone, no files:read), and the message says so instead.
    virtual std::optional<RemoteMedia> file(const nlohmann::json&) { return std::nullopt; }
};

// A Slack user or bot id as the ghost's {id}: lower-cased, since Slack's ids are upper-case
// letters and digits (so nothing is lost) and the framework would otherwise escape each
// capital ("U0ALICE" would become "_u0_a_l_i_c_e").
std::string ghostIdFor(std::string_view slackId);

// "<channel>/<ts>": a Slack message's id, stable across edits (ts never changes).
RemoteMessageId slackMessageId(const std::string& channel, const std::string& ts);

// "<channel>/<ts>/reaction/<user>/<name>": one user's reaction with one emoji on a message
// (Slack allows each once), the same when added and removed.
RemoteMessageId slackReactionId(const std::string& channel, const std::string& ts, const std::string& user,
                                const std::string& name);

// The thread a message event belongs to: its thread_ts when that is another message's ts
// (the thread's root); nullopt for a message outside threads and for a root itself.
std::optional<std::string> threadRootOf(const EventCallback& callback);

// The channel an event happened in, when it has one.
std::optional<std::string> channelOf(const EventCallback& callback);

// Everything Matrix gets for the event, in order: a message with files is one Matrix message
// per file after its text (ids "<channel>/<ts>", then "<channel>/<ts>/file/<n>").
std::vector<RemoteEvent> inboundEvents(const EventCallback& callback, const SelfIdentity& self,
                                       SenderDirectory& users);

std::optional<RemoteEvent> inboundEvent(const EventCallback& callback, const SelfIdentity& self,
                                        SenderDirectory& users);

}  // namespace mxbridge::slack
