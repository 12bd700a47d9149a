#include "inbound_events.h"

#include <functional>
#include <map>

#include "mxbridge/slack/emoji_names.h"
#include "mxbridge/slack/message_text.h"
#include "mxbridge/slack/rich_text.h"

namespace mxbridge::slack {

namespace {

std::string field(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool isOwn(const nlohmann::json& message, const SelfIdentity& self) {
    std::string botId = field(message, "bot_id");
    std::string user = field(message, "user");
    return (!botId.empty() && botId == self.botId) || (!user.empty() && user == self.botUserId);
}

// The sender of a message: a user, or a bot posting under its own name (no user).
RemoteSender senderOf(const nlohmann::json& message, SenderDirectory& users) {
    std::string user = field(message, "user");
    if (!user.empty()) return users.sender(user);
    std::string botId = field(message, "bot_id");
    std::string name = field(message, "username");
    if (name.empty() && message.contains("bot_profile") && message["bot_profile"].is_object())
        name = field(message["bot_profile"], "name");
    std::string id = botId.empty() ? "unknown" : botId;
    return RemoteSender{.id = RemoteUserId(id), .ghostId = ghostIdFor(id),
                        .displayName = name.empty() ? std::optional<std::string>() : name,
                        .avatarMxc = std::nullopt};
}

std::string plainText(const nlohmann::json& message, SenderDirectory& users) {
    return slackTextToPlain(field(message, "text"), [&users](std::string_view id) { return users.nameOf(id); });
}

// The formatted_body for what a Slack client sent as rich_text; nullopt for plain text.
std::optional<std::string> htmlOf(const nlohmann::json& message, SenderDirectory& users) {
    auto blocks = message.find("blocks");
    if (blocks == message.end()) return std::nullopt;
    RichTextNames names{
        .userPill = [&users](std::string_view id) -> std::optional<std::pair<std::string, std::string>> {
            auto matrixId = users.ghostMatrixId(id);
            if (!matrixId) return std::nullopt;
            return std::make_pair(*matrixId, users.nameOf(id));
        },
        .channelName = nullptr};
    return richTextToHtml(*blocks, names);
}

using Handler = std::function<std::optional<RemoteEvent>(const nlohmann::json& event, const std::string& channel,
                                                         const SelfIdentity& self, SenderDirectory& users)>;

std::optional<RemoteEvent> newMessage(const nlohmann::json& event, const std::string& channel,
                                      const SelfIdentity& self, SenderDirectory& users) {
    if (isOwn(event, self)) return std::nullopt;
    std::string ts = field(event, "ts");
    if (ts.empty()) return std::nullopt;
    RemoteMessage message;
    message.portal.id = RemoteRoomId(channel);
    message.portal.createIfMissing = false;  // relay portals are linked by the operator or !link
    message.sender = senderOf(event, users);
    message.id = slackMessageId(channel, ts);
    message.kind = field(event, "subtype") == "me_message" ? MessageKind::Emote : MessageKind::Text;
    message.body = plainText(event, users);
    message.html = htmlOf(event, users);
    // A thread reply is a Matrix reply to the thread's root (Matrix threads: not yet).
    std::string threadTs = field(event, "thread_ts");
    if (!threadTs.empty() && threadTs != ts) message.replyTo = slackMessageId(channel, threadTs);
    if (message.body.empty()) return std::nullopt;  // files and blocks alone: not carried yet
    return message;
}

std::optional<RemoteEvent> changedMessage(const nlohmann::json& event, const std::string& channel,
                                          const SelfIdentity& self, SenderDirectory& users) {
    auto message = event.find("message");
    if (message == event.end() || !message->is_object() || isOwn(*message, self)) return std::nullopt;
    // Slack also sends message_changed when it unfurls a link: the text is the same then.
    auto previous = event.find("previous_message");
    if (previous != event.end() && previous->is_object() && field(*previous, "text") == field(*message, "text"))
        return std::nullopt;
    std::string ts = field(*message, "ts");
    if (ts.empty()) return std::nullopt;
    return RemoteEdit{.room = RemoteRoomId(channel),
                      .sender = senderOf(*message, users),
                      .target = slackMessageId(channel, ts),
                      .newBody = plainText(*message, users),
                      .newHtml = htmlOf(*message, users)};
}

std::optional<RemoteEvent> deletedMessage(const nlohmann::json& event, const std::string& channel,
                                          const SelfIdentity& self, SenderDirectory& users) {
    std::string ts = field(event, "deleted_ts");
    if (ts.empty()) return std::nullopt;
    auto previous = event.find("previous_message");
    bool known = previous != event.end() && previous->is_object();
    // A relayed post deleted because its Matrix original was redacted: nothing left to do.
    if (known && isOwn(*previous, self)) return std::nullopt;
    RemoteSender sender = known ? senderOf(*previous, users)
                                : RemoteSender{.id = RemoteUserId("unknown"), .ghostId = "unknown",
                                               .displayName = std::nullopt, .avatarMxc = std::nullopt};
    return RemoteRedaction{.room = RemoteRoomId(channel), .sender = sender, .target = slackMessageId(channel, ts),
                           .reason = "deleted on Slack"};
}

// reaction_added / reaction_removed on a message: the emoji itself where the name is known,
// else ":name:" (a workspace's own emoji, shown as its name).
std::optional<RemoteEvent> reaction(const nlohmann::json& event, const std::string& channel,
                                    const SelfIdentity& self, SenderDirectory& users) {
    std::string user = field(event, "user");
    std::string name = field(event, "reaction");
    auto item = event.find("item");
    if (user.empty() || name.empty() || user == self.botUserId || item == event.end() || !item->is_object() ||
        field(*item, "type") != "message")
        return std::nullopt;
    std::string ts = field(*item, "ts");
    if (ts.empty()) return std::nullopt;
    return RemoteReaction{.room = RemoteRoomId(channel),
                          .sender = users.sender(user),
                          .target = slackMessageId(channel, ts),
                          .id = slackReactionId(channel, ts, user, name),
                          .key = emojiForSlackName(name).value_or(":" + name + ":"),
                          .removed = field(event, "type") == "reaction_removed"};
}

// By "type/subtype" ("message/" for a plain message).
const std::map<std::string, Handler, std::less<>>& handlers() {
    static const std::map<std::string, Handler, std::less<>> table = {
        {"message/", newMessage},
        {"message/me_message", newMessage},
        {"message/thread_broadcast", newMessage},
        {"message/bot_message", newMessage},
        {"message/file_share", newMessage},
        {"message/message_changed", changedMessage},
        {"message/message_deleted", deletedMessage},
        {"reaction_added/", reaction},
        {"reaction_removed/", reaction},
    };
    return table;
}

}  // namespace

std::string ghostIdFor(std::string_view slackId) {
    std::string out(slackId);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

RemoteMessageId slackMessageId(const std::string& channel, const std::string& ts) {
    return RemoteMessageId(channel + "/" + ts);
}

RemoteMessageId slackReactionId(const std::string& channel, const std::string& ts, const std::string& user,
                                const std::string& name) {
    return RemoteMessageId(channel + "/" + ts + "/reaction/" + user + "/" + name);
}

std::optional<std::string> threadRootOf(const EventCallback& callback) {
    if (callback.eventType != "message") return std::nullopt;
    std::string threadTs = field(callback.event, "thread_ts");
    if (threadTs.empty() || threadTs == field(callback.event, "ts")) return std::nullopt;
    return threadTs;
}

std::optional<std::string> channelOf(const EventCallback& callback) {
    std::string channel = field(callback.event, "channel");
    // Reactions name theirs in the item they are on.
    auto item = callback.event.find("item");
    if (channel.empty() && item != callback.event.end() && item->is_object()) channel = field(*item, "channel");
    if (channel.empty()) return std::nullopt;
    return channel;
}

std::vector<RemoteEvent> inboundEvents(const EventCallback& callback, const SelfIdentity& self,
                                       SenderDirectory& users) {
    std::vector<RemoteEvent> out;
    auto channel = channelOf(callback);
    std::optional<RemoteEvent> first = inboundEvent(callback, self, users);
    if (first) out.push_back(std::move(*first));
    auto files = callback.event.find("files");
    if (!channel || callback.eventType != "message" || files == callback.event.end() || !files->is_array() ||
        isOwn(callback.event, self))
        return out;
    std::string ts = field(callback.event, "ts");
    int n = 0;
    for (const auto& file : *files) {
        if (!file.is_object()) continue;
        RemoteMessage message;
        message.portal.id = RemoteRoomId(*channel);
        message.portal.createIfMissing = false;
        message.sender = senderOf(callback.event, users);
        message.id = RemoteMessageId(slackMessageId(*channel, ts).str() + "/file/" + std::to_string(++n));
        std::string name = field(file, "name");
        std::string mime = field(file, "mimetype");
        if (auto media = users.file(file)) {
            message.kind = mime.rfind("image/", 0) == 0 ? MessageKind::Image
                           : mime.rfind("video/", 0) == 0 ? MessageKind::Video
                           : mime.rfind("audio/", 0) == 0 ? MessageKind::Audio : MessageKind::File;
            message.body = name.empty() ? "file" : name;
            message.media = std::move(*media);
        } else {
            message.kind = MessageKind::Notice;
            message.body = "(a file, " + (name.empty() ? std::string("unnamed") : name) +
                           ", could not be brought over from Slack)";
        }
        out.push_back(std::move(message));
    }
    return out;
}

std::optional<RemoteEvent> inboundEvent(const EventCallback& callback, const SelfIdentity& self,
                                        SenderDirectory& users) {
    auto channel = channelOf(callback);
    if (!channel) return std::nullopt;
    auto handler = handlers().find(callback.eventType + "/" + field(callback.event, "subtype"));
    if (handler == handlers().end()) return std::nullopt;
    return handler->second(callback.event, *channel, self, users);
}

}  // namespace mxbridge::slack
