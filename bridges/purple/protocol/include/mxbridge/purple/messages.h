// The messages of wire version 1, typed. Each has its type name, a toRecord() for the body
// and a fromRecord() that throws FieldError naming the field that is missing or mistyped.
// Fields a side does not know are ignored, so adding an optional field needs no new version.
//
// Requests (bridge -> host), each answered by a Reply of the same id and type, or an Error:
//   hello            versions, the host's pid and libpurple version
//   ping             an empty reply: the host's loop is alive
//   list_protocols   every protocol plugin with its login fields
//   login            add an account (or replace the one with that handle) and connect it;
//                    replied at once, the outcome comes as account_connected or
//                    account_disconnected
//   logout           disconnect and forget an account
//   send_im          an IM to a buddy; replied once libpurple has taken it
//   send_typing      tell a buddy we are typing, or no longer
//   join_chat        join a chat (MUC, IRC channel) by the name a user types; replied at
//                    once, the outcome comes as chat_joined (or nothing: see JoinChat)
//   leave_chat       leave a joined chat
//   send_chat        a message to a joined chat; replied once libpurple has taken it
// Events (host -> bridge): account_connected, account_disconnected, im_received, im_sent,
// write_failed, typing, host_log, chat_joined, chat_users, chat_received, chat_topic,
// chat_left, chat_invited, chat_join_failed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/purple/frame.h"
#include "mxbridge/purple/value.h"

namespace mxbridge::purple::wire {

// ----- hello / ping -----

struct Hello {
    static constexpr std::string_view kType = "hello";
    std::int64_t version = kVersion;
    std::string client;  // who is asking, for the host's log
    Record toRecord() const;
    static Hello fromRecord(const Record& body);
};

struct HelloReply {
    static constexpr std::string_view kType = "hello";
    std::int64_t version = kVersion;
    std::int64_t pid = 0;
    std::string libpurpleVersion;
    Record toRecord() const;
    static HelloReply fromRecord(const Record& body);
};

inline constexpr std::string_view kPing = "ping";

// ----- protocols -----

// One part of a username that the plugin asks for apart and joins with a separator: XMPP's
// domain ("user" + '@' + "domain"), IRC's server.
struct UserSplit {
    std::string label;         // "Domain"
    std::string defaultValue;  // may be empty
    std::string separator;     // "@"
    bool reverse = false;      // split at the last separator instead of the first
    bool operator==(const UserSplit&) const = default;
};

enum class OptionKind { String, Integer, Boolean, Choice };

struct ProtocolOption {
    std::string key;    // the plugin's setting name ("port", "connect_server")
    std::string label;  // what to ask the user
    OptionKind kind = OptionKind::String;
    std::string defaultValue;  // as text: "6667", "true", a choice's value
    bool masked = false;       // a secret (a NickServ password): asked without echo
    struct Choice {
        std::string label;
        std::string value;
        bool operator==(const Choice&) const = default;
    };
    std::vector<Choice> choices;  // for OptionKind::Choice
    bool operator==(const ProtocolOption&) const = default;
};

enum class PasswordUse { Required, Optional, None };

struct ProtocolInfo {
    std::string id;    // "prpl-jabber"
    std::string name;  // "XMPP"
    std::vector<UserSplit> userSplits;
    PasswordUse password = PasswordUse::Required;
    std::vector<ProtocolOption> options;
    bool operator==(const ProtocolInfo&) const = default;
};

struct ProtocolList {
    static constexpr std::string_view kType = "list_protocols";
    std::vector<ProtocolInfo> protocols;
    Record toRecord() const;
    static ProtocolList fromRecord(const Record& body);
};

std::string_view optionKindName(OptionKind kind);
std::string_view passwordUseName(PasswordUse use);

// ----- accounts -----

// `account` is the bridge's handle for an account (its login id): every later message about
// the account uses it; the host never stores it beyond its own life.
struct Login {
    static constexpr std::string_view kType = "login";
    std::string account;
    std::string protocol;  // "prpl-jabber"
    std::string username;  // whole, splits joined: "alice@example.org/bridge"
    std::string password;  // set in memory only; the host never lets libpurple save it
    Record settings;       // ProtocolOption key -> string, integer or boolean
    Record toRecord() const;
    static Login fromRecord(const Record& body);
};

struct Logout {
    static constexpr std::string_view kType = "logout";
    std::string account;
    Record toRecord() const;
    static Logout fromRecord(const Record& body);
};

struct SendIm {
    static constexpr std::string_view kType = "send_im";
    std::string account;
    std::string who;   // the buddy's name as the protocol spells it
    std::string html;  // libpurple's messages are HTML-ish markup
    Record toRecord() const;
    static SendIm fromRecord(const Record& body);
};

struct SendTyping {
    static constexpr std::string_view kType = "send_typing";
    std::string account;
    std::string who;
    bool typing = true;
    Record toRecord() const;
    static SendTyping fromRecord(const Record& body);
};

// ----- chats -----

// A chat is named by what a user types (`name`: "room@conference.example.org",
// "#channel"); the plugin turns it into its join fields. Once joined it is known by its
// conversation name (`chat`), which the plugin may spell differently (folded case).
struct JoinChat {
    static constexpr std::string_view kType = "join_chat";
    std::string account;
    std::string name;
    Record toRecord() const;
    static JoinChat fromRecord(const Record& body);
};

struct LeaveChat {
    static constexpr std::string_view kType = "leave_chat";
    std::string account;
    std::string chat;
    Record toRecord() const;
    static LeaveChat fromRecord(const Record& body);
};

struct SendChat {
    static constexpr std::string_view kType = "send_chat";
    std::string account;
    std::string chat;
    std::string html;
    Record toRecord() const;
    static SendChat fromRecord(const Record& body);
};

// One person in a chat. `name` is their name in the chat (a MUC nick, an IRC nick);
// `buddy` is who they are beyond it when the plugin knows (a MUC occupant's real bare JID,
// an IRC nick, which is global), empty when the chat hides it (an anonymous MUC).
struct ChatUser {
    std::string name;
    std::string buddy;
    std::string alias;
    bool operator==(const ChatUser&) const = default;
};

// The account is in the chat now (also after a rejoin), with its title and topic.
struct ChatJoined {
    static constexpr std::string_view kType = "chat_joined";
    std::string account;
    std::string chat;
    std::string title;
    std::string topic;
    std::string nick;  // the account's own name in it
    Record toRecord() const;
    static ChatJoined fromRecord(const Record& body);
};

// People arrived (`joined`) or left. `initial`: the members present when the account
// joined, not arrivals.
struct ChatUsers {
    static constexpr std::string_view kType = "chat_users";
    std::string account;
    std::string chat;
    bool joined = true;
    bool initial = false;
    std::vector<ChatUser> users;
    std::string reason;  // why they left, when the plugin says
    Record toRecord() const;
    static ChatUsers fromRecord(const Record& body);
};

struct ChatReceived {
    static constexpr std::string_view kType = "chat_received";
    std::string account;
    std::string chat;
    ChatUser from;
    std::string html;
    std::int64_t timestamp = 0;
    bool own = false;      // the account's own message (the chat's echo of what we sent)
    bool delayed = false;  // history replayed on join, not a new message
    Record toRecord() const;
    static ChatReceived fromRecord(const Record& body);
};

struct ChatTopic {
    static constexpr std::string_view kType = "chat_topic";
    std::string account;
    std::string chat;
    std::string who;  // may be empty
    std::string topic;
    Record toRecord() const;
    static ChatTopic fromRecord(const Record& body);
};

// The account is no longer in the chat (left, kicked, the conversation closed).
struct ChatLeft {
    static constexpr std::string_view kType = "chat_left";
    std::string account;
    std::string chat;
    Record toRecord() const;
    static ChatLeft fromRecord(const Record& body);
};

// Someone invited the account to a chat. The host accepts (joining follows as
// chat_joined): the Matrix room's invitation is where the owner says yes or no.
struct ChatInvited {
    static constexpr std::string_view kType = "chat_invited";
    std::string account;
    std::string chat;  // as the plugin names it, fit for join_chat
    std::string inviter;
    std::string message;
    Record toRecord() const;
    static ChatInvited fromRecord(const Record& body);
};

// The server refused a join (a nick in use, a members-only room…); `chat` as the plugin
// names it, empty when it cannot say.
struct ChatJoinFailed {
    static constexpr std::string_view kType = "chat_join_failed";
    std::string account;
    std::string chat;
    Record toRecord() const;
    static ChatJoinFailed fromRecord(const Record& body);
};

// An Error reply's body. Codes: bad_request, unknown_protocol, unknown_account,
// not_connected, send_failed, internal.
struct ErrorBody {
    std::string code;
    std::string text;
    Record toRecord() const;
    static ErrorBody fromRecord(const Record& body);
};

// ----- events -----

struct AccountConnected {
    static constexpr std::string_view kType = "account_connected";
    std::string account;
    Record toRecord() const;
    static AccountConnected fromRecord(const Record& body);
};

// Why an account went away. The names follow what libpurple reports; `retryable` is the
// host's reading of it: false means trying again with the same settings cannot help (wrong
// password, a name taken elsewhere, a certificate refused).
struct AccountDisconnected {
    static constexpr std::string_view kType = "account_disconnected";
    std::string account;
    std::string reason;  // network_error, authentication_failed, invalid_settings, ...
    bool retryable = true;
    std::string text;    // the plugin's own words
    Record toRecord() const;
    static AccountDisconnected fromRecord(const Record& body);
};

struct ImReceived {
    static constexpr std::string_view kType = "im_received";
    std::string account;
    std::string who;    // the sender's name as the protocol spells it
    std::string buddy;  // the same, normalised by the plugin (an XMPP bare JID): stable per person
    std::string alias;  // their display name, when the plugin knows one
    std::string html;
    std::int64_t timestamp = 0;  // seconds since the epoch, as the plugin reported it
    Record toRecord() const;
    static ImReceived fromRecord(const Record& body);
};

// libpurple reports our own sent IMs too; the bridge uses this to confirm delivery and to
// recognise its echoes.
struct ImSent {
    static constexpr std::string_view kType = "im_sent";
    std::string account;
    std::string who;
    std::string buddy;
    std::string html;
    std::int64_t timestamp = 0;
    Record toRecord() const;
    static ImSent fromRecord(const Record& body);
};

// A message the plugin says could not be written (an error shown in the conversation).
struct WriteFailed {
    static constexpr std::string_view kType = "write_failed";
    std::string account;
    std::string who;
    std::string buddy;
    std::string text;
    Record toRecord() const;
    static WriteFailed fromRecord(const Record& body);
};

// A buddy's typing state, as the plugin reports it: "typing", "paused" (stopped, text
// still there) or "stopped".
struct Typing {
    static constexpr std::string_view kType = "typing";
    std::string account;
    std::string who;
    std::string buddy;
    std::string state;
    Record toRecord() const;
    static Typing fromRecord(const Record& body);
};

// A line of the host's own log (libpurple's debug output at warning and above), so the
// bridge can keep the last ones and log them when the host dies.
struct HostLog {
    static constexpr std::string_view kType = "host_log";
    std::string level;  // "warning", "error", "fatal"
    std::string category;
    std::string text;
    Record toRecord() const;
    static HostLog fromRecord(const Record& body);
};

// Builders for whole messages.
template <typename T>
Message request(std::uint32_t id, const T& body) {
    return Message{.kind = Kind::Request, .id = id, .type = std::string(T::kType), .body = body.toRecord()};
}
template <typename T>
Message event(std::uint32_t id, const T& body) {
    return Message{.kind = Kind::Event, .id = id, .type = std::string(T::kType), .body = body.toRecord()};
}
Message reply(const Message& to, Record body);
Message errorReply(const Message& to, std::string code, std::string text);

}  // namespace mxbridge::purple::wire
