#include "mxbridge/purple/messages.h"

namespace mxbridge::purple::wire {

namespace {

OptionKind optionKindFrom(std::string_view name) {
    if (name == "string") return OptionKind::String;
    if (name == "integer") return OptionKind::Integer;
    if (name == "boolean") return OptionKind::Boolean;
    if (name == "choice") return OptionKind::Choice;
    throw FieldError("option kind '" + std::string(name) + "' is unknown");
}

PasswordUse passwordUseFrom(std::string_view name) {
    if (name == "required") return PasswordUse::Required;
    if (name == "optional") return PasswordUse::Optional;
    if (name == "none") return PasswordUse::None;
    throw FieldError("password use '" + std::string(name) + "' is unknown");
}

const Record& asRecord(const Value& value, const char* what) {
    const Record* record = value.asRecord();
    if (!record) throw FieldError(std::string(what) + " is not a record");
    return *record;
}

Record userSplitRecord(const UserSplit& split) {
    Record r;
    r.set("label", split.label).set("default", split.defaultValue).set("separator", split.separator);
    r.set("reverse", split.reverse);
    return r;
}

UserSplit userSplitFrom(const Record& r) {
    return UserSplit{.label = r.string("label"),
                     .defaultValue = r.stringOr("default", ""),
                     .separator = r.string("separator"),
                     .reverse = r.booleanOr("reverse", false)};
}

Record optionRecord(const ProtocolOption& option) {
    Record r;
    r.set("key", option.key).set("label", option.label).set("kind", optionKindName(option.kind));
    r.set("default", option.defaultValue).set("masked", option.masked);
    if (!option.choices.empty()) {
        List choices;
        for (const auto& choice : option.choices)
            choices.emplace_back(Record().set("label", choice.label).set("value", choice.value));
        r.set("choices", std::move(choices));
    }
    return r;
}

ProtocolOption optionFrom(const Record& r) {
    ProtocolOption option{.key = r.string("key"),
                          .label = r.string("label"),
                          .kind = optionKindFrom(r.string("kind")),
                          .defaultValue = r.stringOr("default", ""),
                          .masked = r.booleanOr("masked", false),
                          .choices = {}};
    if (r.has("choices"))
        for (const auto& item : r.list("choices")) {
            const Record& choice = asRecord(item, "a choice");
            option.choices.push_back({.label = choice.string("label"), .value = choice.string("value")});
        }
    return option;
}

Record protocolRecord(const ProtocolInfo& info) {
    List splits, options;
    for (const auto& split : info.userSplits) splits.emplace_back(userSplitRecord(split));
    for (const auto& option : info.options) options.emplace_back(optionRecord(option));
    Record r;
    r.set("id", info.id).set("name", info.name).set("user_splits", std::move(splits));
    r.set("password", passwordUseName(info.password)).set("options", std::move(options));
    return r;
}

ProtocolInfo protocolFrom(const Record& r) {
    ProtocolInfo info{.id = r.string("id"),
                      .name = r.string("name"),
                      .userSplits = {},
                      .password = passwordUseFrom(r.string("password")),
                      .options = {}};
    for (const auto& item : r.list("user_splits")) info.userSplits.push_back(userSplitFrom(asRecord(item, "a user split")));
    for (const auto& item : r.list("options")) info.options.push_back(optionFrom(asRecord(item, "an option")));
    return info;
}

}  // namespace

std::string_view optionKindName(OptionKind kind) {
    switch (kind) {
        case OptionKind::String: return "string";
        case OptionKind::Integer: return "integer";
        case OptionKind::Boolean: return "boolean";
        case OptionKind::Choice: return "choice";
    }
    return "string";
}

std::string_view passwordUseName(PasswordUse use) {
    switch (use) {
        case PasswordUse::Required: return "required";
        case PasswordUse::Optional: return "optional";
        case PasswordUse::None: return "none";
    }
    return "required";
}

Record Hello::toRecord() const { return Record().set("version", version).set("client", client); }
Hello Hello::fromRecord(const Record& b) {
    return Hello{.version = b.integer("version"), .client = b.stringOr("client", "")};
}

Record HelloReply::toRecord() const {
    return Record().set("version", version).set("pid", pid).set("libpurple_version", libpurpleVersion);
}
HelloReply HelloReply::fromRecord(const Record& b) {
    return HelloReply{.version = b.integer("version"),
                      .pid = b.integerOr("pid", 0),
                      .libpurpleVersion = b.stringOr("libpurple_version", "")};
}

Record ProtocolList::toRecord() const {
    List list;
    for (const auto& info : protocols) list.emplace_back(protocolRecord(info));
    return Record().set("protocols", std::move(list));
}
ProtocolList ProtocolList::fromRecord(const Record& b) {
    ProtocolList result;
    for (const auto& item : b.list("protocols")) result.protocols.push_back(protocolFrom(asRecord(item, "a protocol")));
    return result;
}

Record Login::toRecord() const {
    Record r;
    r.set("account", account).set("protocol", protocol).set("username", username);
    r.set("password", password).set("settings", settings);
    return r;
}
Login Login::fromRecord(const Record& b) {
    return Login{.account = b.string("account"),
                 .protocol = b.string("protocol"),
                 .username = b.string("username"),
                 .password = b.stringOr("password", ""),
                 .settings = b.has("settings") ? b.record("settings") : Record()};
}

Record Logout::toRecord() const { return Record().set("account", account); }
Logout Logout::fromRecord(const Record& b) { return Logout{.account = b.string("account")}; }

Record SendIm::toRecord() const { return Record().set("account", account).set("who", who).set("html", html); }
SendIm SendIm::fromRecord(const Record& b) {
    return SendIm{.account = b.string("account"), .who = b.string("who"), .html = b.string("html")};
}

Record SendTyping::toRecord() const { return Record().set("account", account).set("who", who).set("typing", typing); }
SendTyping SendTyping::fromRecord(const Record& b) {
    return SendTyping{.account = b.string("account"), .who = b.string("who"), .typing = b.boolean("typing")};
}

Record Typing::toRecord() const {
    return Record().set("account", account).set("who", who).set("buddy", buddy).set("state", state);
}
Typing Typing::fromRecord(const Record& b) {
    std::string who = b.string("who");
    return Typing{.account = b.string("account"), .who = who, .buddy = b.stringOr("buddy", who),
                  .state = b.string("state")};
}

Record JoinChat::toRecord() const { return Record().set("account", account).set("name", name); }
JoinChat JoinChat::fromRecord(const Record& b) { return JoinChat{.account = b.string("account"), .name = b.string("name")}; }

Record LeaveChat::toRecord() const { return Record().set("account", account).set("chat", chat); }
LeaveChat LeaveChat::fromRecord(const Record& b) {
    return LeaveChat{.account = b.string("account"), .chat = b.string("chat")};
}

Record SendChat::toRecord() const { return Record().set("account", account).set("chat", chat).set("html", html); }
SendChat SendChat::fromRecord(const Record& b) {
    return SendChat{.account = b.string("account"), .chat = b.string("chat"), .html = b.string("html")};
}

namespace {

Record chatUserRecord(const ChatUser& user) {
    return Record().set("name", user.name).set("buddy", user.buddy).set("alias", user.alias);
}

ChatUser chatUserFrom(const Record& r) {
    return ChatUser{.name = r.string("name"), .buddy = r.stringOr("buddy", ""), .alias = r.stringOr("alias", "")};
}

}  // namespace

Record ChatJoined::toRecord() const {
    return Record().set("account", account).set("chat", chat).set("title", title).set("topic", topic).set("nick", nick);
}
ChatJoined ChatJoined::fromRecord(const Record& b) {
    return ChatJoined{.account = b.string("account"), .chat = b.string("chat"), .title = b.stringOr("title", ""),
                      .topic = b.stringOr("topic", ""), .nick = b.stringOr("nick", "")};
}

Record ChatUsers::toRecord() const {
    List list;
    for (const auto& user : users) list.emplace_back(chatUserRecord(user));
    Record r;
    r.set("account", account).set("chat", chat).set("joined", joined).set("initial", initial);
    r.set("users", std::move(list)).set("reason", reason);
    return r;
}
ChatUsers ChatUsers::fromRecord(const Record& b) {
    ChatUsers result{.account = b.string("account"), .chat = b.string("chat"), .joined = b.boolean("joined"),
                     .initial = b.booleanOr("initial", false), .users = {}, .reason = b.stringOr("reason", "")};
    for (const auto& item : b.list("users")) result.users.push_back(chatUserFrom(asRecord(item, "a chat user")));
    return result;
}

Record ChatReceived::toRecord() const {
    Record r;
    r.set("account", account).set("chat", chat).set("from", chatUserRecord(from)).set("html", html);
    r.set("timestamp", timestamp).set("own", own).set("delayed", delayed);
    return r;
}
ChatReceived ChatReceived::fromRecord(const Record& b) {
    return ChatReceived{.account = b.string("account"), .chat = b.string("chat"),
                        .from = chatUserFrom(b.record("from")), .html = b.string("html"),
                        .timestamp = b.integerOr("timestamp", 0), .own = b.booleanOr("own", false),
                        .delayed = b.booleanOr("delayed", false)};
}

Record ChatTopic::toRecord() const {
    return Record().set("account", account).set("chat", chat).set("who", who).set("topic", topic);
}
ChatTopic ChatTopic::fromRecord(const Record& b) {
    return ChatTopic{.account = b.string("account"), .chat = b.string("chat"), .who = b.stringOr("who", ""),
                     .topic = b.stringOr("topic", "")};
}

Record ChatLeft::toRecord() const { return Record().set("account", account).set("chat", chat); }
ChatLeft ChatLeft::fromRecord(const Record& b) {
    return ChatLeft{.account = b.string("account"), .chat = b.string("chat")};
}

Record ChatInvited::toRecord() const {
    return Record().set("account", account).set("chat", chat).set("inviter", inviter).set("message", message);
}
ChatInvited ChatInvited::fromRecord(const Record& b) {
    return ChatInvited{.account = b.string("account"), .chat = b.string("chat"),
                       .inviter = b.stringOr("inviter", ""), .message = b.stringOr("message", "")};
}

Record ChatJoinFailed::toRecord() const { return Record().set("account", account).set("chat", chat); }
ChatJoinFailed ChatJoinFailed::fromRecord(const Record& b) {
    return ChatJoinFailed{.account = b.string("account"), .chat = b.stringOr("chat", "")};
}

Record ErrorBody::toRecord() const { return Record().set("code", code).set("text", text); }
ErrorBody ErrorBody::fromRecord(const Record& b) {
    return ErrorBody{.code = b.string("code"), .text = b.stringOr("text", "")};
}

Record AccountConnected::toRecord() const { return Record().set("account", account); }
AccountConnected AccountConnected::fromRecord(const Record& b) {
    return AccountConnected{.account = b.string("account")};
}

Record AccountDisconnected::toRecord() const {
    Record r;
    r.set("account", account).set("reason", reason).set("retryable", retryable).set("text", text);
    return r;
}
AccountDisconnected AccountDisconnected::fromRecord(const Record& b) {
    return AccountDisconnected{.account = b.string("account"),
                               .reason = b.string("reason"),
                               .retryable = b.boolean("retryable"),
                               .text = b.stringOr("text", "")};
}

Record ImReceived::toRecord() const {
    Record r;
    r.set("account", account).set("who", who).set("buddy", buddy).set("alias", alias).set("html", html);
    r.set("timestamp", timestamp);
    return r;
}
ImReceived ImReceived::fromRecord(const Record& b) {
    return ImReceived{.account = b.string("account"),
                      .who = b.string("who"),
                      .buddy = b.stringOr("buddy", b.string("who")),
                      .alias = b.stringOr("alias", ""),
                      .html = b.string("html"),
                      .timestamp = b.integerOr("timestamp", 0)};
}

Record ImSent::toRecord() const {
    Record r;
    r.set("account", account).set("who", who).set("buddy", buddy).set("html", html).set("timestamp", timestamp);
    return r;
}
ImSent ImSent::fromRecord(const Record& b) {
    return ImSent{.account = b.string("account"),
                  .who = b.string("who"),
                  .buddy = b.stringOr("buddy", b.string("who")),
                  .html = b.string("html"),
                  .timestamp = b.integerOr("timestamp", 0)};
}

Record WriteFailed::toRecord() const {
    return Record().set("account", account).set("who", who).set("buddy", buddy).set("text", text);
}
WriteFailed WriteFailed::fromRecord(const Record& b) {
    std::string who = b.stringOr("who", "");
    return WriteFailed{.account = b.string("account"), .who = who, .buddy = b.stringOr("buddy", who),
                       .text = b.string("text")};
}

Record HostLog::toRecord() const { return Record().set("level", level).set("category", category).set("text", text); }
HostLog HostLog::fromRecord(const Record& b) {
    return HostLog{.level = b.string("level"), .category = b.stringOr("category", ""), .text = b.string("text")};
}

Message reply(const Message& to, Record body) {
    return Message{.kind = Kind::Reply, .id = to.id, .type = to.type, .body = std::move(body)};
}

Message errorReply(const Message& to, std::string code, std::string text) {
    return Message{.kind = Kind::Error,
                   .id = to.id,
                   .type = to.type,
                   .body = ErrorBody{.code = std::move(code), .text = std::move(text)}.toRecord()};
}

}  // namespace mxbridge::purple::wire
