// The typed messages: each survives toRecord / fromRecord, and a body that lacks a field or
// has it with another type names the field in its error.
#include <doctest/doctest.h>

#include "mxbridge/purple/messages.h"

using namespace mxbridge::purple::wire;

namespace {

template <typename T>
T throughTheWire(const T& message) {
    DecodeResult result = decode(encode(event(7, message)));
    REQUIRE(result.ok());
    CHECK(result.message().type == T::kType);
    return T::fromRecord(result.message().body);
}

}  // namespace

TEST_CASE("a protocol's login fields survive the wire") {
    ProtocolInfo jabber{.id = "prpl-jabber",
                        .name = "XMPP",
                        .userSplits = {{.label = "Domain", .defaultValue = "", .separator = "@", .reverse = true},
                                       {.label = "Resource", .defaultValue = "", .separator = "/", .reverse = false}},
                        .password = PasswordUse::Required,
                        .options = {{.key = "port", .label = "Connect port", .kind = OptionKind::Integer,
                                     .defaultValue = "5222", .masked = false, .choices = {}},
                                    {.key = "connection_security", .label = "Connection security",
                                     .kind = OptionKind::Choice, .defaultValue = "require_tls", .masked = false,
                                     .choices = {{.label = "Use encryption if available", .value = "opportunistic_tls"},
                                                 {.label = "Require encryption", .value = "require_tls"}}}}};
    ProtocolInfo bonjour{.id = "prpl-bonjour", .name = "Bonjour", .userSplits = {},
                         .password = PasswordUse::None, .options = {}};
    ProtocolList list{.protocols = {jabber, bonjour}};
    ProtocolList back = throughTheWire(list);
    REQUIRE(back.protocols.size() == 2);
    CHECK(back.protocols[0] == jabber);
    CHECK(back.protocols[1] == bonjour);
}

TEST_CASE("account and IM messages survive the wire") {
    Login login{.account = "l1", .protocol = "prpl-jabber", .username = "alice@example.org",
                .password = "s3cret", .settings = Record().set("port", 5222).set("connect_server", "127.0.0.1")};
    Login loginBack = throughTheWire(login);
    CHECK(loginBack.password == "s3cret");
    CHECK(loginBack.settings == login.settings);

    AccountDisconnected gone{.account = "l1", .reason = "authentication_failed", .retryable = false,
                             .text = "Not Authorized"};
    AccountDisconnected goneBack = throughTheWire(gone);
    CHECK(goneBack.reason == "authentication_failed");
    CHECK_FALSE(goneBack.retryable);

    ImReceived im{.account = "l1", .who = "bob@example.org/phone", .buddy = "bob@example.org", .alias = "Bob",
                  .html = "hi <b>there</b>", .timestamp = 1700000000};
    ImReceived imBack = throughTheWire(im);
    CHECK(imBack.who == im.who);
    CHECK(imBack.buddy == "bob@example.org");
    CHECK(imBack.html == im.html);
    CHECK(imBack.timestamp == im.timestamp);
}

TEST_CASE("a missing or mistyped field is named") {
    Record body = Record().set("account", "l1").set("who", 5);
    try {
        SendIm::fromRecord(body);
        FAIL("accepted a number as a name");
    } catch (const FieldError& e) {
        CHECK(std::string(e.what()) == "field 'who' is not a string");
    }
    try {
        SendIm::fromRecord(Record().set("account", "l1").set("who", "bob"));
        FAIL("accepted an IM without text");
    } catch (const FieldError& e) {
        CHECK(std::string(e.what()) == "field 'html' is missing");
    }
    CHECK_THROWS_AS(ProtocolList::fromRecord(Record().set("protocols", List{Value("x")})), FieldError);
}

TEST_CASE("typing both ways survives the wire") {
    SendTyping send = throughTheWire(SendTyping{.account = "l1", .who = "bob@example.org", .typing = false});
    CHECK_FALSE(send.typing);
    Typing typing = throughTheWire(Typing{.account = "l1", .who = "bob@example.org/pc", .buddy = "bob@example.org",
                                          .state = "paused"});
    CHECK(typing.state == "paused");
    CHECK(typing.buddy == "bob@example.org");
}

TEST_CASE("chat requests and events survive the wire") {
    CHECK(throughTheWire(JoinChat{.account = "l1", .name = "room@conference.example.org"}).name ==
          "room@conference.example.org");
    CHECK(throughTheWire(LeaveChat{.account = "l1", .chat = "room@conference.example.org"}).chat ==
          "room@conference.example.org");
    SendChat send = throughTheWire(SendChat{.account = "l1", .chat = "#c", .html = "<b>hi</b>"});
    CHECK(send.html == "<b>hi</b>");
    ChatJoined joined = throughTheWire(ChatJoined{.account = "l1", .chat = "room@conference.example.org",
                                                  .title = "Room", .topic = "about", .nick = "alice"});
    CHECK(joined.title == "Room");
    CHECK(joined.topic == "about");
    CHECK(joined.nick == "alice");
    ChatUser bob{.name = "bob", .buddy = "bob@example.org", .alias = "Bob"};
    ChatUser anonymous{.name = "eve", .buddy = "", .alias = ""};
    ChatUsers users = throughTheWire(ChatUsers{.account = "l1", .chat = "#c", .joined = false, .initial = false,
                                               .users = {bob, anonymous}, .reason = "Quit: bye"});
    CHECK_FALSE(users.joined);
    CHECK(users.users == std::vector<ChatUser>{bob, anonymous});
    CHECK(users.reason == "Quit: bye");
    ChatReceived received = throughTheWire(ChatReceived{.account = "l1", .chat = "#c", .from = bob, .html = "hi",
                                                        .timestamp = 1700000000, .own = true, .delayed = true});
    CHECK(received.from == bob);
    CHECK(received.own);
    CHECK(received.delayed);
    CHECK(received.timestamp == 1700000000);
    ChatTopic topic = throughTheWire(ChatTopic{.account = "l1", .chat = "#c", .who = "bob", .topic = "new"});
    CHECK(topic.who == "bob");
    CHECK(topic.topic == "new");
    CHECK(throughTheWire(ChatLeft{.account = "l1", .chat = "#c"}).chat == "#c");
    ChatInvited invited = throughTheWire(ChatInvited{.account = "l1", .chat = "tea@conference.example.org",
                                                     .inviter = "bob@example.org/pc", .message = "come"});
    CHECK(invited.chat == "tea@conference.example.org");
    CHECK(invited.inviter == "bob@example.org/pc");
    CHECK(invited.message == "come");
    CHECK(throughTheWire(ChatJoinFailed{.account = "l1", .chat = "#c"}).chat == "#c");
    CHECK_THROWS_WITH_AS(ChatUsers::fromRecord(Record().set("account", "l1").set("chat", "#c").set("joined", true)),
                         doctest::Contains("users"), FieldError);
}

TEST_CASE("an event from an older host without `buddy` reads the sender's name in its place") {
    Record body = Record().set("account", "l1").set("who", "bob").set("html", "hi");
    CHECK(ImReceived::fromRecord(body).buddy == "bob");
}

TEST_CASE("fields a side does not know are ignored") {
    Record body = AccountConnected{.account = "l1"}.toRecord();
    body.set("added_in_a_later_version", true);
    CHECK(AccountConnected::fromRecord(body).account == "l1");
}

TEST_CASE("replies and errors answer their request's id and type") {
    Message ask = request(41, Hello{.version = kVersion, .client = "test"});
    Message ok = reply(ask, HelloReply{.version = kVersion, .pid = 12, .libpurpleVersion = "2.14.12"}.toRecord());
    CHECK(ok.kind == Kind::Reply);
    CHECK(ok.id == 41);
    CHECK(ok.type == "hello");
    Message no = errorReply(ask, "bad_request", "nope");
    CHECK(no.kind == Kind::Error);
    CHECK(ErrorBody::fromRecord(no.body).code == "bad_request");
}
