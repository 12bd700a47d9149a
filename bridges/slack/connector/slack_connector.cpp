// The Slack connector, first slice: relay mode for channels linked by the operator (config or
// !link). Slack's events arrive through Socket Mode (socket_mode_client.h, acknowledged once
// stored) or the Events API webhook (events_endpoint.h, stored before Slack hears 200), go
// into the inbox, and are bridged by this connector's worker in
// arrival order: messages from Slack users' ghosts, edits and deletions. What Matrix users
// say in a linked room is posted by the app under their display name (chat:write.customize),
// in order per channel; what Slack refuses is told to the sender in the room.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "event_inbox.h"
#include "events_endpoint.h"
#include "inbound_events.h"
#include "mxbridge/connector.h"
#include "mxbridge/slack/emoji_names.h"
#include "mxbridge/slack/message_text.h"
#include "mxbridge/slack/rich_text.h"
#include "mxbridge/slack/socket_mode_client.h"
#include "mxbridge/slack/web_api_client.h"
#include "mxbridge/webhook.h"
#include "slack_config.h"
#include "slack_login.h"

namespace mxbridge::slack {

namespace {

constexpr const char* kNetwork = "slack";
constexpr std::size_t kMaxUsernameChars = 80;  // Slack cuts a customized username there

// "<channel>/<ts>" back into its parts.
std::optional<std::pair<std::string, std::string>> splitMessageId(const RemoteMessageId& id) {
    const std::string& s = id.str();
    std::size_t slash = s.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == s.size()) return std::nullopt;
    return std::make_pair(s.substr(0, slash), s.substr(slash + 1));
}

StateSubject bridgeSubject() {
    StateSubject subject;
    subject.network = kNetwork;
    return subject;
}

RemoteStatus status(RemoteState state, std::string reason = {}, std::string code = {}) {
    return RemoteStatus{.state = state, .reason = std::move(reason), .code = std::move(code)};
}

Error errorFor(const WebApiFailure& failure) {
    return Error{.code = "slack_" + failure.error, .message = failure.message,
                 .retryable = false, .notifySender = true};
}

// Cuts at a UTF-8 character boundary.
std::string cutUtf8(const std::string& text, std::size_t maxBytes) {
    if (text.size() <= maxBytes) return text;
    std::size_t end = maxBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end);
}

// Thrown out of a lookup when the bridge stops meanwhile: the event stays pending, to be
// bridged whole after the restart rather than now with a name missing.
struct StoppedMidEvent {};

// users.info, cached: a Slack user as a ghost (name and avatar), and names for mentions.
// Called on the worker, which may wait on Slack and the homeserver.
class SlackUsers final : public SenderDirectory {
public:
    SlackUsers(WebApiClient& client, BridgeContext& context, std::string botToken)
        : client_(client), ctx_(context), botToken_(std::move(botToken)) {}

    RemoteSender sender(const std::string& userId) override {
        const auto& user = lookup(userId);
        return RemoteSender{.id = RemoteUserId(userId), .ghostId = ghostIdFor(userId),
                            .displayName = user.name.empty() ? std::optional<std::string>() : user.name,
                            .avatarMxc = avatarMxc(userId, user.avatarUrl)};
    }
    std::string nameOf(std::string_view userId) override { return lookup(std::string(userId)).name; }
    std::optional<RemoteMedia> file(const nlohmann::json& file) override {
        std::string url = file.value("url_private_download", std::string());
        if (url.empty()) url = file.value("url_private", std::string());
        if (url.empty()) return std::nullopt;
        auto fetched = fetchFile(url, std::chrono::seconds(60), kMaxFileBytes, botToken_);
        if (!fetched) {
            Logger("slack").warn("a file shared on Slack could not be fetched (files:read missing, too large, or gone)",
                                 {{"file", file.value("id", std::string())}});
            return std::nullopt;
        }
        std::string mime = file.value("mimetype", std::string());
        return RemoteMedia{.bytes = std::move(fetched->bytes),
                           .mimeType = mime.empty() ? fetched->contentType : mime,
                           .fileName = file.value("name", std::string("file"))};
    }
    // A profile changed on Slack: the next lookup asks users.info again.
    void forget(const std::string& userId) { known_.erase(userId); }
    std::optional<std::string> ghostMatrixId(std::string_view userId) override {
        return ctx_.ghostUserId(ghostIdFor(userId)).str();
    }

private:
    struct Known {
        std::string name;
        std::string avatarUrl;  // profile.image_512; empty when none
    };

    // The avatar as Matrix media: uploaded once per URL (Slack gives a new URL when the user
    // changes it), remembered under slack/avatar/<user id>. nullopt leaves the ghost's as is.
    std::optional<std::string> avatarMxc(const std::string& userId, const std::string& url) {
        if (url.empty()) return std::nullopt;
        std::string key = "slack/avatar/" + userId;
        nlohmann::json known = nlohmann::json::parse(ctx_.kv().get(key).value_or("{}"), nullptr, false);
        if (known.is_object() && known.value("url", "") == url) return known.value("mxc", std::string());
        auto file = fetchFile(url, std::chrono::seconds(20), 5 * 1024 * 1024);
        if (!file) {
            Logger("slack").warn("a Slack avatar could not be fetched; the ghost keeps its own",
                                 {{"user", userId}, {"url", url}});
            return std::nullopt;
        }
        auto uploaded = std::make_shared<std::promise<Result<std::string>>>();
        auto result = uploaded->get_future();
        ctx_.bot().uploadMedia(file->bytes, file->contentType.empty() ? "image/png" : file->contentType,
                               "avatar", [uploaded](Result<std::string> mxc) { uploaded->set_value(std::move(mxc)); });
        if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return std::nullopt;
        Result<std::string> mxc = result.get();
        if (!mxc) return std::nullopt;
        ctx_.kv().put(key, nlohmann::json{{"url", url}, {"mxc", *mxc}}.dump());
        return *mxc;
    }
    const Known& lookup(const std::string& userId) {
        if (auto it = known_.find(userId); it != known_.end()) return it->second;
        WebApiResult result = client_.callAndWait("users.info", {{"user", userId}});
        if (!result.answer.ok() && result.answer.failure->error == "shutting_down") throw StoppedMidEvent{};
        if (!result.answer.ok()) {
            // Shown by id this time and asked again next time: a name is not worth losing a message.
            static const Known unknown;
            return unknown;
        }
        const nlohmann::json& user = result.answer.body.value("user", nlohmann::json::object());
        const nlohmann::json& profile = user.value("profile", nlohmann::json::object());
        std::string name = profile.value("display_name", std::string());
        if (name.empty()) name = profile.value("real_name", std::string());
        if (name.empty()) name = user.value("real_name", std::string());
        if (name.empty()) name = user.value("name", std::string());
        return known_[userId] = Known{name, profile.value("image_512", std::string())};
    }

    static constexpr std::size_t kMaxFileBytes = 100 * 1024 * 1024;

    WebApiClient& client_;
    BridgeContext& ctx_;
    std::string botToken_;
    std::map<std::string, Known> known_;
};

}  // namespace

class SlackConnector final : public Connector,
                             public WebhookHandler,
                             public EditHandler,
                             public RedactionHandler,
                             public ReactionHandler,
                             public LoginHandler,
                             public ConfigValidator {
public:
    ~SlackConnector() override { stop(); }

    BridgeInfo info() const override {
        return BridgeInfo{"slack", "Slack channels as Matrix rooms (relay mode, puppeting)", "slack_{id}", "slack_{id}",
                          {"slack"}, "Slack"};
    }

    void validateConfig(const ConfigSection& section) const override { parseSlackBridgeConfig(section); }

    void start(BridgeContext& context) override {
        ctx_ = &context;
        log_.emplace(context.logger("slack"));
        config_ = parseSlackBridgeConfig(context.config());
        WebApiClientOptions options;
        options.baseUrl = config_.apiUrl;
        options.token = config_.botToken;
        client_ = std::make_unique<WebApiClient>(options);
        users_ = std::make_unique<SlackUsers>(*client_, context, config_.botToken);
        inbox_ = std::make_unique<EventInbox>(context.kv());
        if (!config_.signingSecret.empty())
            endpoint_ = std::make_unique<EventsEndpoint>(RequestVerifier(config_.signingSecret), *inbox_,
                                                         context.metrics(), [this] { wake(); });
        if (!config_.appToken.empty()) startSocketMode();
        for (const ConfiguredLink& link : config_.channels) {
            bool known = false;
            for (const Link& existing : context.links().forRemote(RemoteRoomId(link.channel)))
                known = known || existing.room == link.room;
            if (!known) context.links().link(Link{.room = link.room, .remote = RemoteRoomId(link.channel)});
        }
        registerCommands();
        context.reportState(bridgeSubject(), status(RemoteState::Connecting));
        checkToken();
        worker_ = std::thread([this] { bridgeEvents(); });
    }

    void stop() override {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        changed_.notify_all();
        echoes_.stop();  // the worker may wait on it
        if (socket_) socket_->stop();
        if (client_) client_->shutdown();  // a lookup the worker waits on ends now
        if (worker_.joinable()) worker_.join();
        retirer_.finish();  // users' clients, retired by the framework before this stop
        if (socketLoop_.joinable()) {
            // The closes get a moment on the loop; then it ends whatever is left.
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            socketWork_.reset();
            socketIo_.stop();
            socketLoop_.join();
        }
        socket_.reset();
        if (appClient_) appClient_->shutdown();
        TimerHandle retry;
        {
            std::lock_guard lock(mutex_);
            retry = std::move(retryCheck_);
        }
        retry.cancel();
        client_.reset();  // queued calls end as "shutting_down"
    }

    WebhookResponse onWebhook(const WebhookRequest& request) override {
        if (request.path == "slack/events" && endpoint_) return endpoint_->handle(request);
        return WebhookResponse{.status = 404, .body = "not found\n"};
    }

    // --- Logins (puppeting): slack_login.h ---

    std::vector<std::string> loginNetworks() const override { return {kNetwork}; }

    std::vector<LoginFlow> loginFlows(const std::string& network) const override {
        if (network != kNetwork) return {};
        return slackLoginFlows();
    }

    std::unique_ptr<LoginProcess> createLogin(const UserId&, const std::string& network,
                                              const std::string& flowId) override {
        if (network != kNetwork) return nullptr;
        std::string flow = flowId == "cookie" ? "cookie" : "token";
        return std::make_unique<SlackLoginProcess>(
            flow,
            [this]() -> std::optional<std::string> {
                std::lock_guard lock(mutex_);
                if (!self_ || self_->teamId.empty()) return std::nullopt;
                return self_->teamId;
            },
            [this](const UserCredentials& credentials) {
                // A client of its own for the check: the login worker may wait on it.
                WebApiClientOptions options;
                options.baseUrl = config_.apiUrl;
                options.token = credentials.token;
                options.cookie = credentials.cookie;
                options.workers = 1;
                options.maxAttempts = 2;
                WebApiClient check(options);
                return check.callAndWait("auth.test", {});
            });
    }

    std::unique_ptr<RemoteClient> makeClient(const Login& login, RemoteClientHandle handle) override {
        if (login.network != kNetwork || login.secret.empty()) return nullptr;  // no login: the relay posts
        std::optional<UserCredentials> credentials = readCredentials(login.secret.reveal());
        if (!credentials || login.data.value("user_id", std::string()).empty()) {
            log_->warn("a stored Slack login cannot be read; its owner must log in again", {{"user", login.user.str()}});
            return nullptr;
        }
        WebApiClientOptions options;
        options.baseUrl = config_.apiUrl;
        return std::make_unique<SlackPuppet>(login, std::move(*credentials), options, std::move(handle), retirer_);
    }

    HookResult onMatrixMessage(const MatrixMessage& message) override {
        std::vector<std::string> channels = linkedChannels(message.remotes);
        if (channels.empty()) return HookResult::ignored();
        std::string text = slackText(message.body, message.html);
        if (message.media) {
            std::shared_ptr<SlackPuppet> puppet = puppetOf(message.sender);
            if (puppet && !puppet->usable()) {
                if (!config_.relayWhenLoginFails) {
                    loginNotWorking(message.room, message.event.eventId());
                    return HookResult::delivered();
                }
                puppet.reset();
            }
            for (const std::string& channel : channels)
                sendFile(channel, message.room, message.event.eventId(), *message.media, message.senderName, puppet);
            return HookResult::delivered();
        }
        // A Matrix reply to a bridged Slack message goes into that message's thread (its
        // root's, when it is itself a thread reply): Slack has no replies outside threads.
        auto repliedTo = message.replyToRemote ? splitMessageId(*message.replyToRemote) : std::nullopt;
        std::shared_ptr<SlackPuppet> puppet = puppetOf(message.sender);
        for (const std::string& channel : channels) {
            std::optional<std::string> threadTs;
            if (repliedTo && repliedTo->first == channel) threadTs = threadRoot(channel, repliedTo->second);
            OutgoingPost post{.room = message.room, .event = message.event.eventId(), .channel = channel,
                              .text = text, .threadTs = threadTs, .senderName = message.senderName,
                              .emote = message.kind == MessageKind::Emote};
            if (puppet && postAsUser(*puppet, post)) continue;
            if (puppet && !config_.relayWhenLoginFails) {
                loginNotWorking(post.room, post.event);
                continue;
            }
            relay(post);
        }
        return HookResult::delivered();
    }

    HookResult onMatrixEdit(const MatrixEdit& edit) override {
        return changeSlackMessage(edit.remotes, edit.sender, edit.target, edit.targetRemote, edit.room, edit.event.eventId(),
                                  "chat.update", slackText(edit.newBody, edit.newHtml));
    }

    // A Matrix reaction to a bridged message: reactions.add, as the sender when they are logged
    // in, else as the app (one reaction per emoji for everyone relayed).
    HookResult onMatrixReaction(const MatrixReaction& reaction) override {
        if (linkedChannels(reaction.remotes).empty()) return HookResult::ignored();
        std::optional<RemoteMessageId> remote =
            reaction.targetRemote ? reaction.targetRemote : ctx_->eventMappings().remoteFor(reaction.target);
        if (!remote)
            return HookResult::failed(Error::transient("slack_target_unknown",
                                                       "the message it reacts to has not reached Slack"));
        auto parts = splitMessageId(*remote);
        if (!parts || remote->str().find("/reaction/") != std::string::npos) return HookResult::ignored();
        std::string channel = parts->first;
        std::string ts = parts->second.substr(0, parts->second.find('/'));  // a file's message: its own ts
        std::optional<std::string> name = slackNameForEmoji(reaction.key);
        if (!name)
            return HookResult::failed(Error{.code = "slack_unknown_emoji",
                                            .message = "Slack has no reaction the bridge knows for " + reaction.key,
                                            .retryable = false, .notifySender = true});
        std::shared_ptr<SlackPuppet> puppet = puppetOf(reaction.sender);
        // Made as `user` (marked first: Slack's reaction_added may come before its answer).
        auto react = [&](const std::string& user, SlackPuppet* as) {
            RemoteMessageId id = slackReactionId(channel, ts, user, *name);
            ctx_->kv().put(reactedKey(id), "1");
            WebApiArgs args = {{"channel", channel}, {"name", *name}, {"timestamp", ts}};
            auto done = [this, room = reaction.room, event = reaction.event.eventId(), channel, id](const WebApiResult& r) {
                // The app's reaction is shared by everyone it relays: someone else's counts.
                if (r.answer.ok() || r.answer.failure->error == "already_reacted") {
                    ctx_->eventMappings().map(room, event, RemoteRoomId(channel), id);
                    return;
                }
                ctx_->kv().erase(reactedKey(id));
                onFailure(*r.answer.failure, room, event);
            };
            if (!as) {
                client_->call("reactions.add", std::move(args), channel, done);
                return true;
            }
            if (as->call("reactions.add", std::move(args), channel, done)) return true;
            ctx_->kv().erase(reactedKey(id));  // the login stopped working meanwhile
            return false;
        };
        if (puppet && react(puppet->slackUserId(), puppet.get())) return HookResult::delivered();
        std::string bot;
        {
            std::lock_guard lock(mutex_);
            if (self_) bot = self_->botUserId;
        }
        if (bot.empty())
            return HookResult::failed(Error::transient("slack_not_ready", "the bridge has not reached Slack yet"));
        react(bot, nullptr);
        return HookResult::delivered();
    }

    HookResult onMatrixRedaction(const MatrixRedaction& redaction) override {
        return changeSlackMessage(redaction.remotes, redaction.sender, redaction.target, redaction.targetRemote, redaction.room,
                                  redaction.event.eventId(), "chat.delete", {});
    }

private:
    // One Matrix message on its way to one channel.
    struct OutgoingPost {
        RoomId room;
        EventId event;
        std::string channel;
        std::string text;
        std::optional<std::string> threadTs;
        std::string senderName;
        bool emote = false;  // /me
    };

    // The running client of `user`'s login, when they have one (nullptr: relay them).
    std::shared_ptr<SlackPuppet> puppetOf(const UserId& user) {
        return std::dynamic_pointer_cast<SlackPuppet>(ctx_->remoteClients().acquire(LoginKey{user, kNetwork, ""}));
    }

    // Slack accepted a post: remembered for edits, replies and thread replies.
    void posted(const OutgoingPost& post, const std::string& ts) {
        if (post.threadTs) rememberThread(post.channel, ts, *post.threadTs);
        ctx_->eventMappings().map(post.room, post.event, RemoteRoomId(post.channel), slackMessageId(post.channel, ts));
    }

    // The app posts it under the sender's display name (chat:write.customize).
    void relay(const OutgoingPost& post) {
        WebApiArgs args = {{"channel", post.channel}, {"text", post.emote ? "_" + post.text + "_" : post.text},
                           {"username", cutUtf8(post.senderName, kMaxUsernameChars)}};
        if (post.threadTs) args.emplace_back("thread_ts", *post.threadTs);
        client_->call("chat.postMessage", std::move(args), post.channel, [this, post](const WebApiResult& r) {
            if (r.answer.ok()) posted(post, r.answer.body.value("ts", std::string()));
            else onFailure(*r.answer.failure, post.room, post.event);
        });
    }

    // Posted with the sender's own token, so it is theirs on Slack. False when their login
    // cannot post (refused earlier, or retired): the caller relays it. Refused now, it is
    // relayed after all and the sender told why in the room (their DM hears it from the
    // framework, through the login's state).
    bool postAsUser(SlackPuppet& puppet, const OutgoingPost& post) {
        // A /me is Slack's own me_message (chat.meMessage), outside threads, which it cannot reach.
        bool me = post.emote && !post.threadTs;
        WebApiArgs args = {{"channel", post.channel}, {"text", post.emote && !me ? "_" + post.text + "_" : post.text}};
        if (post.threadTs) args.emplace_back("thread_ts", *post.threadTs);
        const std::string user = puppet.slackUserId();
        echoes_.sending(user, post.channel);
        bool queued = puppet.call(me ? "chat.meMessage" : "chat.postMessage", std::move(args), post.channel,
                                  [this, post, user](const WebApiResult& r) {
            if (r.answer.ok()) {
                std::string ts = r.answer.body.value("ts", std::string());
                ctx_->kv().put(postedKey(post.channel, ts), user);  // before the echo is looked at
                echoes_.settled(user, post.channel);
                posted(post, ts);
                return;
            }
            echoes_.settled(user, post.channel);
            const WebApiFailure& failure = *r.answer.failure;
            // Logged out with posts still queued: the relay takes them (at the bridge's stop,
            // the relay's own shutdown tells their senders).
            if (failure.error == "shutting_down") return relay(post);
            if (failure.kind != FailureKind::BadCredentials) return onFailure(failure, post.room, post.event);
            if (!config_.relayWhenLoginFails) return loginNotWorking(post.room, post.event);
            OutgoingMessage notice;
            notice.kind = MessageKind::Notice;
            notice.body = "\u26A0 Slack refused your login (" + failure.message +
                          "), so this message was posted by the bridge under your name instead. Send !login slack "
                          "in your chat with the bridge bot to post as yourself again.";
            notice.replyTo = post.event;
            ctx_->bot().sendMessage(post.room, notice);
            relay(post);
        });
        if (!queued) echoes_.settled(user, post.channel);
        return queued;
    }

    // Reactions made from Matrix (by their slackReactionId): Slack's reaction_added and
    // reaction_removed for them are not bridged back.
    static std::string reactedKey(const RemoteMessageId& id) { return "slack/reacted/" + id.str(); }

    // A Matrix reaction redacted: reactions.remove with the token that added it.
    HookResult removeReaction(const RemoteMessageId& id, const UserId& sender, const RoomId& room, const EventId& event) {
        // "<channel>/<ts>/reaction/<user>/<name>"
        const std::string& s = id.str();
        std::size_t marker = s.find("/reaction/");
        auto parts = splitMessageId(RemoteMessageId(s.substr(0, marker)));
        std::string rest = s.substr(marker + 10);
        std::size_t slash = rest.find('/');
        if (!parts || slash == std::string::npos) return HookResult::ignored();
        std::string user = rest.substr(0, slash);
        WebApiArgs args = {{"channel", parts->first}, {"name", rest.substr(slash + 1)}, {"timestamp", parts->second}};
        auto done = [this, room, event](const WebApiResult& r) {
            if (!r.answer.ok() && r.answer.failure->error != "no_reaction") onFailure(*r.answer.failure, room, event);
        };
        std::string botUser;
        {
            std::lock_guard lock(mutex_);
            if (self_) botUser = self_->botUserId;
        }
        if (user == botUser) {
            client_->call("reactions.remove", std::move(args), parts->first, done);
            return HookResult::delivered();
        }
        std::shared_ptr<SlackPuppet> puppet = puppetOf(sender);
        if (!puppet || puppet->slackUserId() != user || !puppet->call("reactions.remove", std::move(args), parts->first, done))
            return HookResult::failed(Error{.code = "slack_login_needed",
                                            .message = "the reaction was made with your Slack login, which does not "
                                                       "work now; send !login slack to the bridge bot, then try again",
                                            .retryable = false, .notifySender = true});
        return HookResult::delivered();
    }

    // relay_when_login_fails: false, and the sender's login is refused: their message is told
    // as not delivered rather than posted under the app.
    void loginNotWorking(const RoomId& room, const EventId& event) {
        ctx_->reportDeliveryFailure(room, event, Error{.code = "slack_login_needed",
                                                       .message = "Slack refused your login; send !login slack to the "
                                                                  "bridge bot, then send it again",
                                                       .retryable = false, .notifySender = true});
    }

    // Posts made with a user's token, by channel and ts → that user's Slack id: their echoes
    // are not bridged back, and their edits and deletions need that user's token.
    static std::string postedKey(const std::string& channel, const std::string& ts) {
        return "slack/posted/" + channel + "/" + ts;
    }

    // What Slack shows for a Matrix message: its formatted_body as mrkdwn (pills of Slack
    // users' ghosts as real mentions), else its body; either way nothing in it is markup
    // the sender did not write as formatting.
    std::string slackText(const std::string& body, const std::optional<std::string>& html) {
        if (!html) return escapeForSlack(body);
        return htmlToMrkdwn(*html, [this](std::string_view matrixId) -> std::optional<std::string> {
            auto remote = ctx_->users().remoteForGhost(UserId(std::string(matrixId)));
            if (!remote) return std::nullopt;
            return remote->str();
        });
    }

    // A Matrix file to Slack the way new apps must (files.upload is retired): fetched from the
    // homeserver, files.getUploadURLExternal, the bytes to that URL, then
    // files.completeUploadExternal shares it in the channel, saying who sent it.
    // A logged-in sender's file is uploaded with their token (theirs on Slack, no comment),
    // anyone else's by the app with "<name> sent <file>".
    void sendFile(const std::string& channel, const RoomId& room, const EventId& event, const MediaInfo& media,
                  const std::string& senderName, const std::shared_ptr<SlackPuppet>& puppet) {
        std::string name = media.fileName.empty() ? "file" : media.fileName;
        std::weak_ptr<SlackPuppet> asUser = puppet;
        bool byUser = puppet != nullptr;
        // The next step with the same token; false when the login went away meanwhile.
        auto call = [this, asUser, byUser](std::string method, WebApiArgs args, std::string key,
                                           WebApiClient::Callback done) {
            if (!byUser) {
                client_->call(std::move(method), std::move(args), std::move(key), std::move(done));
                return true;
            }
            auto p = asUser.lock();
            return p && p->call(std::move(method), std::move(args), std::move(key), std::move(done));
        };
        auto loginGone = [this, room, event] {
            ctx_->reportDeliveryFailure(room, event, Error::permanent("slack_login_needed",
                                        "your Slack login stopped working while it was uploaded; send !login slack "
                                        "to the bridge bot, then send it again"));
        };
        std::string user = byUser ? puppet->slackUserId() : std::string();
        ctx_->bot().downloadMedia(media.mxcUrl, [this, channel, room, event, name, senderName, call, loginGone, user](Result<std::string> bytes) {
            if (!bytes) {
                ctx_->reportDeliveryFailure(room, event, Error::permanent("slack_file_fetch",
                                            "the file could not be fetched from Matrix: " + bytes.error().message));
                return;
            }
            std::string length = std::to_string(bytes->size());
            bool asked = call("files.getUploadURLExternal", {{"filename", name}, {"length", length}}, channel,
                              [this, channel, room, event, name, senderName, call, loginGone, user,
                               bytes = std::move(*bytes)](const WebApiResult& r) {
                if (!r.answer.ok()) return onFailure(*r.answer.failure, room, event);
                std::string url = r.answer.body.value("upload_url", std::string());
                std::string fileId = r.answer.body.value("file_id", std::string());
                if (url.empty() || fileId.empty() || !uploadFile(url, bytes, std::chrono::seconds(120))) {
                    ctx_->reportDeliveryFailure(room, event, Error::permanent("slack_upload", "Slack did not take the file's bytes"));
                    return;
                }
                nlohmann::json files = nlohmann::json::array({{{"id", fileId}, {"title", name}}});
                WebApiArgs args = {{"files", files.dump()}, {"channel_id", channel}};
                if (user.empty()) {
                    args.emplace_back("initial_comment", escapeForSlack(senderName) + " sent " + escapeForSlack(name));
                } else {
                    // Its file_share event comes back as the user's: marked before it can.
                    ctx_->kv().put(uploadedKey(fileId), user);
                }
                bool completing = call("files.completeUploadExternal", std::move(args), channel,
                                       [this, room, event](const WebApiResult& done) {
                                           if (!done.answer.ok()) onFailure(*done.answer.failure, room, event);
                                       });
                if (!completing) loginGone();
            });
            if (!asked) loginGone();
        });
    }

    // Files uploaded with a user's token, by file id → that user's Slack id.
    static std::string uploadedKey(const std::string& fileId) { return "slack/uploaded/" + fileId; }

    // Thread roots of thread replies, so a reply to a reply joins the same thread.
    static std::string threadKey(const std::string& channel, const std::string& ts) {
        return "slack/thread/" + channel + "/" + ts;
    }
    void rememberThread(const std::string& channel, const std::string& ts, const std::string& root) {
        ctx_->kv().put(threadKey(channel, ts), root);
    }
    std::string threadRoot(const std::string& channel, const std::string& ts) {
        return ctx_->kv().get(threadKey(channel, ts)).value_or(ts);
    }

    std::vector<std::string> linkedChannels(const std::vector<RemoteRoomId>& remotes) const {
        std::vector<std::string> channels;
        for (const RemoteRoomId& remote : remotes)
            if (isSlackChannelId(remote.str())) channels.push_back(remote.str());
        return channels;
    }

    // chat.update / chat.delete of the Slack post a Matrix event became.
    HookResult changeSlackMessage(const std::vector<RemoteRoomId>& remotes, const UserId& sender, const EventId& target,
                                  const std::optional<RemoteMessageId>& targetRemote, const RoomId& room,
                                  const EventId& event, const std::string& method, const std::string& text) {
        if (linkedChannels(remotes).empty()) return HookResult::ignored();
        std::optional<RemoteMessageId> remote = targetRemote ? targetRemote : ctx_->eventMappings().remoteFor(target);
        if (!remote) {
            // Its post may still be on its way to Slack (the id comes back with Slack's answer).
            return HookResult::failed(Error::transient("slack_target_unknown",
                                                       "the message it changes has not reached Slack"));
        }
        if (method == "chat.delete" && remote->str().find("/reaction/") != std::string::npos)
            return removeReaction(*remote, sender, room, event);
        auto parts = splitMessageId(*remote);
        if (!parts) return HookResult::ignored();
        WebApiArgs args = {{"channel", parts->first}, {"ts", parts->second}};
        if (method == "chat.update") args.emplace_back("text", text);
        auto done = [this, room, event](const WebApiResult& r) {
            if (!r.answer.ok()) onFailure(*r.answer.failure, room, event);
        };
        // A post made with the sender's token can be changed only with it.
        if (ctx_->kv().get(postedKey(parts->first, parts->second))) {
            std::shared_ptr<SlackPuppet> puppet = puppetOf(sender);
            if (!puppet || !puppet->call(method, std::move(args), parts->first, done))
                return HookResult::failed(Error{.code = "slack_login_needed",
                                                .message = "it was posted with your Slack login, which does not work "
                                                           "now; send !login slack to the bridge bot, then try again",
                                                .retryable = false, .notifySender = true});
            return HookResult::delivered();
        }
        client_->call(method, std::move(args), parts->first, done);
        return HookResult::delivered();
    }

    void onFailure(const WebApiFailure& failure, const RoomId& room, const EventId& event) {
        log_->warn("Slack refused a Matrix event", {{"room_id", room.str()}, {"event_id", event.str()},
                                                    {"error", failure.error}, {"reason", failure.message}});
        if (failure.kind == FailureKind::BadCredentials)
            ctx_->reportState(bridgeSubject(), status(RemoteState::BadCredentials, failure.message, failure.error));
        ctx_->reportDeliveryFailure(room, event, errorFor(failure));
    }

    // auth.test: who the bridge is on Slack, and whether its token has what relay mode needs.
    void checkToken() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        client_->call("auth.test", {}, {}, [this](const WebApiResult& result) {
            const auto& failure = result.answer.failure;
            if (failure && failure->error == "shutting_down") return;
            if (!failure) {
                SelfIdentity self{.botUserId = result.answer.body.value("user_id", std::string()),
                                  .botId = result.answer.body.value("bot_id", std::string()),
                                  .teamId = result.answer.body.value("team_id", std::string())};
                {
                    std::lock_guard lock(mutex_);
                    self_ = self;
                }
                changed_.notify_all();
                std::vector<std::string> missing = missingScopes(result.grantedScopes, relayScopes());
                std::string names;
                for (const auto& scope : missing) names += (names.empty() ? "" : ", ") + scope;
                if (!missing.empty())
                    log_->error("the Slack app lacks scopes relay mode needs; add them under OAuth & "
                                "Permissions, Bot Token Scopes, and reinstall the app",
                                {{"missing_scopes", names}});
                {
                    std::lock_guard lock(mutex_);
                    tokenStatus_ = "the bot token works: workspace " + result.answer.body.value("team", std::string()) +
                                   " (" + result.answer.body.value("team_id", std::string()) + "), bot user " +
                                   self.botUserId + (missing.empty() ? "" : "; missing scopes: " + names);
                }
                log_->info("connected to Slack", {{"team", result.answer.body.value("team", std::string())},
                                                  {"team_id", result.answer.body.value("team_id", std::string())},
                                                  {"bot_user_id", self.botUserId}});
                ctx_->reportState(bridgeSubject(),
                                  missing.empty() ? status(RemoteState::Connected)
                                                  : status(RemoteState::Connected, "missing scopes: " + names,
                                                           "missing_scope"));
                return;
            }
            {
                std::lock_guard lock(mutex_);
                tokenStatus_ = "the bot token does not work: " + failure->message;
            }
            if (failure->kind == FailureKind::BadCredentials) {
                log_->error("Slack refused the bot token; set bridge.bot_token to the app's Bot User OAuth Token",
                            {{"error", failure->error}, {"reason", failure->message}});
                ctx_->reportState(bridgeSubject(),
                                  status(RemoteState::BadCredentials, failure->message, failure->error));
                return;
            }
            log_->warn("Slack could not be asked who the bridge is; asking again in 30 s",
                       {{"error", failure->error}, {"reason", failure->message}});
            ctx_->reportState(bridgeSubject(),
                              status(RemoteState::TransientDisconnect, failure->message, failure->error));
            std::lock_guard lock(mutex_);
            if (!stopping_) retryCheck_ = ctx_->after(std::chrono::seconds(30), [this] { checkToken(); });
        });
    }

    void wake() { changed_.notify_all(); }

    // Socket Mode on a loop of its own: envelopes go to the same inbox as webhook posts, and
    // are acknowledged once stored (a redelivered one too: it is stored already).
    void startSocketMode() {
        WebApiClientOptions options;
        options.baseUrl = config_.apiUrl;
        options.token = config_.appToken;
        options.workers = 1;
        appClient_ = std::make_unique<WebApiClient>(options);
        SocketModeHandlers handlers;
        handlers.onEvent = [this](const EventCallback& event, int retryAttempt) {
            EventInbox::Admission admission = inbox_->admit(event, std::chrono::system_clock::now());
            if (admission == EventInbox::Admission::Full) return false;
            if (admission == EventInbox::Admission::Accepted) wake();
            else log_->debug("redelivered Socket Mode event acknowledged, not bridged again",
                             {{"event_id", event.eventId}, {"retry_attempt", retryAttempt}});
            return true;
        };
        handlers.onState = [this](SocketModeState state, const std::string& reason) {
            static constexpr RemoteState kStates[] = {RemoteState::Connecting, RemoteState::Connected,
                                                      RemoteState::TransientDisconnect, RemoteState::BadCredentials};
            {
                std::lock_guard lock(mutex_);
                socketStatus_ = std::string(remoteStateName(kStates[static_cast<int>(state)])) +
                                (reason.empty() ? "" : " (" + reason + ")");
            }
            StateSubject subject = bridgeSubject();
            subject.loginId = "socket_mode";
            ctx_->reportState(subject, status(kStates[static_cast<int>(state)], reason));
        };
        socketWork_.emplace(socketIo_.get_executor());
        socket_ = std::make_unique<SocketModeClient>(socketIo_, *appClient_, std::move(handlers));
        socketLoop_ = std::thread([this] {
            for (;;) {
                try {
                    socketIo_.run();
                    return;
                } catch (const std::exception& e) {
                    log_->error("Socket Mode loop handler threw; continuing", {{"error", e.what()}});
                }
            }
        });
        socket_->start();
    }

    // The worker: bridges stored events in arrival order once the bridge knows who it is on
    // Slack (so its own posts coming back are recognised).
    void bridgeEvents() {
        for (;;) {
            std::optional<EventCallback> next;
            SelfIdentity self;
            {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] {
                    if (stopping_) return true;
                    if (!self_) return false;
                    next = inbox_->nextPending();
                    return next.has_value();
                });
                if (stopping_) return;
                self = *self_;
            }
            try {
                bridgeOne(*next, self);
            } catch (const StoppedMidEvent&) {
                return;  // still pending: bridged after the restart
            }
            inbox_->markBridged(next->eventId, std::chrono::system_clock::now());
        }
    }

    void bridgeOne(const EventCallback& callback, const SelfIdentity& self) {
        try {
            if (callback.eventType == "user_change") return profileChanged(callback);
            auto channel = channelOf(callback);
            if (!channel || ctx_->links().forRemote(RemoteRoomId(*channel)).empty()) return;
            if (isPostOfALogin(callback, *channel)) return;
            if (auto root = threadRootOf(callback))
                rememberThread(*channel, callback.event.value("ts", std::string()), *root);
            for (RemoteEvent& event : inboundEvents(callback, self, *users_)) ctx_->queueRemote(std::move(event));
        } catch (const std::exception& e) {
            log_->error("a Slack event could not be bridged; it is dropped",
                        {{"event_id", callback.eventId}, {"error", e.what()}});
        }
    }

    // A message a logged-in Matrix user posted with their token coming back, or a change of
    // one: it started in Matrix, so it is not bridged again (the worker waits a moment for
    // that user's posts still awaiting Slack's answer, which names their ts).
    bool isPostOfALogin(const EventCallback& callback, const std::string& channel) {
        const nlohmann::json& event = callback.event;
        if (callback.eventType == "reaction_added" || callback.eventType == "reaction_removed") {
            std::string user = event.value("user", std::string());
            const nlohmann::json& item = event.value("item", nlohmann::json::object());
            std::string ts = item.value("ts", std::string());
            std::string name = event.value("reaction", std::string());
            if (user.empty() || ts.empty() || name.empty()) return false;
            return ctx_->kv().get(reactedKey(slackReactionId(channel, ts, user, name))).has_value();
        }
        if (callback.eventType != "message") return false;
        if (auto files = event.find("files"); files != event.end() && files->is_array())
            for (const auto& file : *files)
                if (file.is_object() && ctx_->kv().get(uploadedKey(file.value("id", std::string())))) return true;
        std::string subtype = event.value("subtype", std::string());
        std::string ts;
        if (subtype == "message_changed") {
            ts = event.value("message", nlohmann::json::object()).value("ts", std::string());
        } else if (subtype == "message_deleted") {
            ts = event.value("deleted_ts", std::string());
        } else {
            std::string user = event.value("user", std::string());
            if (user.empty() || event.contains("bot_id")) return false;
            echoes_.waitSettled(user, channel, std::chrono::seconds(5));
            ts = event.value("ts", std::string());
        }
        return !ts.empty() && ctx_->kv().get(postedKey(channel, ts)).has_value();
    }

    // !slack-status: what an operator asks first when messages stop.
    void statusCommand(CommandCall& call) {
        std::string token, socket;
        {
            std::lock_guard lock(mutex_);
            token = tokenStatus_;
            socket = socketStatus_;
        }
        std::size_t channels = 0;
        for (const Link& link : ctx_->links().all()) channels += isSlackChannelId(link.remote.str());
        std::string text = "Slack: " + (token.empty() ? std::string("checking the bot token") : token) + "\n";
        if (!config_.appToken.empty()) text += "Socket Mode: " + (socket.empty() ? std::string("starting") : socket) + "\n";
        if (endpoint_) text += "Events API: taking posts at /_mxbridge/webhook/slack/events\n";
        text += "Events: " + std::to_string(inbox_->pendingCount()) + " waiting to be bridged, " +
                std::to_string(inbox_->rememberedCount()) + " bridged ids remembered\n";
        text += "Linked channels: " + std::to_string(channels);
        call.reply(text);
    }

    // user_change: the ghost's name and avatar follow (the framework sets only what differs).
    void profileChanged(const EventCallback& callback) {
        auto user = callback.event.find("user");
        if (user == callback.event.end() || !user->is_object()) return;
        std::string id = user->value("id", std::string());
        if (!isSafeSlackId(id)) return;
        users_->forget(id);
        ctx_->queueRemote(RemoteProfile{.sender = users_->sender(id)});
    }

    void registerCommands() {
        ctx_->commands().add(Command{
            .name = "slack-status",
            .syntax = "",
            .help = "how the bridge's Slack connection is doing",
            .permission = Permission::User,
            .minArgs = 0,
            .run = [this](CommandCall& call) { statusCommand(call); },
            .roomArg = Command::kNoRoomArg});
        ctx_->commands().add(Command{
            .name = "link",
            .syntax = "<!room:server> <channel id>",
            .help = "relay a Slack channel (its id is under its name, About) in a Matrix room",
            .permission = Permission::User,
            .minArgs = 2,
            .run = [this](CommandCall& call) { linkCommand(call); },
            .roomArg = 0});
        ctx_->commands().add(Command{
            .name = "unlink",
            .syntax = "<!room:server> <channel id>",
            .help = "stop relaying a Slack channel in a Matrix room",
            .permission = Permission::User,
            .minArgs = 2,
            .run = [this](CommandCall& call) {
                RoomId room(call.args[0]);
                ctx_->links().unlink(room, RemoteRoomId(call.args[1]));
                call.reply("Unlinked " + call.args[1] + " from " + room.str() + ".");
            },
            .roomArg = 0});
    }

    void linkCommand(CommandCall& call) {
        RoomId room(call.args[0]);
        std::string channel = call.args[1];
        if (!isValidRoomId(room.str())) return call.reply("Not a Matrix room id: " + room.str());
        if (!isSlackChannelId(channel))
            return call.reply("Not a Slack channel id: " + channel + " (it looks like C0123ABCD)");
        // The reply closure outlives this call: copied into the callback.
        client_->call("conversations.info", {{"channel", channel}}, {},
                      [this, reply = call.reply, room, channel](const WebApiResult& result) {
                          if (!result.answer.ok()) {
                              reply("Cannot link " + channel + ": " + result.answer.failure->message);
                              return;
                          }
                          const nlohmann::json& info = result.answer.body.value("channel", nlohmann::json::object());
                          std::string name = info.value("name", channel);
                          if (!info.value("is_member", false)) {
                              reply("The Slack app is not in #" + name + " yet: invite it there (/invite @the-app), then link again.");
                              return;
                          }
                          ctx_->links().link(Link{.room = room, .remote = RemoteRoomId(channel)});
                          reply("Linked #" + name + " (" + channel + ") to " + room.str() + ".");
                      });
    }

    BridgeContext* ctx_ = nullptr;
    std::optional<Logger> log_;
    SlackBridgeConfig config_;
    std::unique_ptr<WebApiClient> client_;
    ClientRetirer retirer_;  // users' retired clients, finished in stop()
    PostsInFlight echoes_;
    std::unique_ptr<SlackUsers> users_;  // used on the worker only
    std::unique_ptr<EventInbox> inbox_;
    std::unique_ptr<EventsEndpoint> endpoint_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    std::optional<SelfIdentity> self_;
    std::string tokenStatus_;   // for !slack-status
    std::string socketStatus_;
    TimerHandle retryCheck_;
    std::thread worker_;
    std::unique_ptr<WebApiClient> appClient_;  // the app-level token: apps.connections.open
    boost::asio::io_context socketIo_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> socketWork_;
    std::unique_ptr<SocketModeClient> socket_;
    std::thread socketLoop_;
};

MXBRIDGE_BRIDGE(SlackConnector, "slack", "Slack channels as Matrix rooms (relay mode)");

}  // namespace mxbridge::slack
