// Bot commands: parsing, quoting, permissions, the generated !help, unknown commands and
// commands that throw.
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>

#include "ops/admin_list.h"
#include "ops/command_registry_impl.h"

using namespace mxbridge;
using namespace mxbridge::detail;

namespace {

// A registry with a bridge's commands, and the replies of the last call.
struct Bot {
    CommandRegistryImpl registry{"irc", "1.2.3"};
    std::vector<std::string> replies;
    std::vector<CommandCall> calls;

    Bot() {
        registry.add(Command{"join", "<#channel> [key]", "join an IRC channel", Permission::User, 1,
                             [this](CommandCall& c) {
                                 calls.push_back(c);
                                 c.reply("joining " + c.args[0]);
                             }});
        registry.add(Command{"reconnect", "[network]", "reconnect every puppet", Permission::Admin, 0,
                             [this](CommandCall& c) { calls.push_back(c); }});
        registry.add(Command{"crash", "", "throws", Permission::User, 0,
                             [](CommandCall&) { throw std::runtime_error("the socket is gone"); }});
    }
    bool send(const std::string& body, bool admin = false) {
        replies.clear();
        return registry.handle(UserId("@alice:hs.test"), RoomId("!dm:hs.test"), body, admin,
                               [this](std::string text) { replies.push_back(std::move(text)); });
    }
    std::string reply() const { return replies.empty() ? "<none>" : replies.back(); }
};

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::string error;
    REQUIRE(CommandRegistryImpl::splitArgs(text, out, error));
    return out;
}

}  // namespace

TEST_CASE("arguments split on spaces, with quotes and backslashes keeping words together") {
    CHECK(split("a  b\tc") == std::vector<std::string>{"a", "b", "c"});
    CHECK(split("#chan \"two words\" 'single q' x\\ y") ==
          std::vector<std::string>{"#chan", "two words", "single q", "x y"});
    CHECK(split("say \"\" end") == std::vector<std::string>{"say", "", "end"});
    CHECK(split("it\\'s \"a \\\"quote\\\"\"") == std::vector<std::string>{"it's", "a \"quote\""});
    std::vector<std::string> out;
    std::string error;
    CHECK_FALSE(CommandRegistryImpl::splitArgs("\"open", out, error));
    CHECK(error.find("unterminated \" quote") == 0);
}

TEST_CASE("a command gets its sender, room, arguments and raw argument text") {
    Bot bot;
    CHECK(bot.send("!join #matrix \"secret key\""));
    REQUIRE(bot.calls.size() == 1);
    CHECK(bot.calls[0].sender == UserId("@alice:hs.test"));
    CHECK(bot.calls[0].room == RoomId("!dm:hs.test"));
    CHECK(bot.calls[0].args == std::vector<std::string>{"#matrix", "secret key"});
    CHECK(bot.calls[0].rawArgs == "#matrix \"secret key\"");
    CHECK(bot.reply() == "joining #matrix");
    CHECK(bot.send("  !JOIN #x"));  // names are case-insensitive, leading space is fine
    CHECK(bot.reply() == "joining #x");
}

TEST_CASE("messages that are not commands are left alone") {
    Bot bot;
    CHECK_FALSE(bot.send("hello there"));
    CHECK_FALSE(bot.send("!"));
    CHECK(bot.replies.empty());
}

TEST_CASE("too few arguments get the syntax back") {
    Bot bot;
    CHECK(bot.send("!join"));
    CHECK(bot.reply() == "!join needs <#channel> [key]. Usage: !join <#channel> [key] - join an IRC channel");
    CHECK(bot.calls.empty());
    CHECK(bot.send("!join \"#unclosed"));
    CHECK(bot.reply().find("!join: unterminated \" quote") == 0);
}

TEST_CASE("admin commands are refused to others and hidden from their !help") {
    Bot bot;
    CHECK(bot.send("!reconnect"));
    CHECK(bot.reply() == "!reconnect is for bridge admins only.");
    CHECK(bot.calls.empty());
    CHECK(bot.send("!reconnect libera", true));
    REQUIRE(bot.calls.size() == 1);
    CHECK(bot.calls[0].senderIsAdmin);

    bot.send("!help");
    std::string help = bot.reply();
    CHECK(help.find("Commands of the irc bridge:") == 0);
    CHECK(help.find("!join <#channel> [key] - join an IRC channel") != std::string::npos);
    CHECK(help.find("!help - list the commands you can use") != std::string::npos);
    CHECK(help.find("!version") != std::string::npos);
    CHECK(help.find("reconnect") == std::string::npos);

    bot.send("!help", true);
    CHECK(bot.reply().find("!reconnect [network] - reconnect every puppet [admin]") != std::string::npos);
    CHECK(bot.reply().find("Commands marked [admin] are for bridge admins only.") != std::string::npos);
}

TEST_CASE("an unknown command gets a suggestion and a pointer to !help") {
    Bot bot;
    CHECK(bot.send("!jion #x"));
    CHECK(bot.reply() == "Unknown command !jion. Did you mean !join? Send !help for the list.");
    CHECK(bot.send("!frobnicate"));
    CHECK(bot.reply() == "Unknown command !frobnicate. Send !help for the list.");
    CHECK(bot.send("!reconect"));  // admin commands are not suggested to non-admins
    CHECK(bot.reply() == "Unknown command !reconect. Send !help for the list.");
    CHECK(bot.send("!reconect", true));
    CHECK(bot.reply().find("Did you mean !reconnect?") != std::string::npos);
}

TEST_CASE("a command that throws is answered with the error, never passed on") {
    Bot bot;
    CHECK_NOTHROW(bot.send("!crash"));
    CHECK(bot.reply() == "!crash failed: the socket is gone");
}

TEST_CASE("!version names the bridge and mxbridge, and a bridge may replace a built-in") {
    Bot bot;
    bot.send("!version");
    CHECK(bot.reply() == "irc bridge, mxbridge 1.2.3");
    bot.registry.add(Command{"!help", "", "custom", Permission::User, 0,
                             [](CommandCall& c) { c.reply("my own help"); }});
    bot.send("!help");
    CHECK(bot.reply() == "my own help");
    CHECK_THROWS_AS(bot.registry.add(Command{"two words", "", "", Permission::User, 0, nullptr}),
                    std::invalid_argument);
}

TEST_CASE("admins are exact user ids or whole-id regexes") {
    AdminList admins({"@root:hs.test", "@.*:ops.test"});
    CHECK(admins.isAdmin(UserId("@root:hs.test")));
    CHECK(admins.isAdmin(UserId("@anyone:ops.test")));
    CHECK_FALSE(admins.isAdmin(UserId("@root:hs.test.evil")));
    CHECK_FALSE(admins.isAdmin(UserId("@root:hsxtest")));  // a user id's dots are literal
    CHECK_FALSE(admins.isAdmin(UserId("@anyone:ops.test.evil")));
    CHECK_FALSE(AdminList().isAdmin(UserId("@root:hs.test")));
}

TEST_CASE("a command naming a room runs for admins and for users with power there; others are told why") {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> replies;
    std::vector<std::string> ran;  // "sender room"
    std::vector<std::string> checked;
    CommandRegistryImpl registry("irc", "1.2.3", [&](const UserId& user, const RoomId& room) -> Result<void> {
        std::lock_guard lock(mutex);
        checked.push_back(user.str() + " " + room.str());
        if (user.str() == "@mod:hs.test") return {};
        return Error::permanent("M_FORBIDDEN", user.str() + " has power level 0 in " + room.str());
    });
    Command link{"link", "<!room> <#channel>", "link a room", Permission::User, 2, [&](CommandCall& c) {
                     {
                         std::lock_guard lock(mutex);
                         ran.push_back(c.sender.str() + " " + c.args[0]);
                     }
                     c.reply("linked");  // takes the mutex itself
                 }};
    link.roomArg = 0;
    registry.add(link);
    auto send = [&](const std::string& sender, const std::string& body, bool admin) {
        registry.handle(UserId(sender), RoomId("!dm:hs.test"), body, admin, [&](std::string text) {
            std::lock_guard lock(mutex);
            replies.push_back(std::move(text));
            cv.notify_all();
        });
    };
    auto waitReplies = [&](size_t n) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, std::chrono::seconds(5), [&] { return replies.size() >= n; });
    };

    send("@mallory:hs.test", "!link !room:hs.test #chan", false);
    REQUIRE(waitReplies(1));
    CHECK(replies[0] == "!link refused: @mallory:hs.test has power level 0 in !room:hs.test");
    send("@mod:hs.test", "!link !room:hs.test #chan", false);
    REQUIRE(waitReplies(2));
    CHECK(replies[1] == "linked");
    send("@root:hs.test", "!link !other:hs.test #chan", true);  // admins are not asked about
    REQUIRE(waitReplies(3));
    send("@mallory:hs.test", "!link not-a-room #chan", false);
    REQUIRE(waitReplies(4));
    CHECK(replies[3].find("\"not-a-room\" is not a room id") != std::string::npos);
    registry.stop();
    std::lock_guard lock(mutex);
    CHECK(ran == std::vector<std::string>{"@mod:hs.test !room:hs.test", "@root:hs.test !other:hs.test"});
    CHECK(checked == std::vector<std::string>{"@mallory:hs.test !room:hs.test", "@mod:hs.test !room:hs.test"});
}

TEST_CASE("without a way to read power levels, a command naming a room is for admins only") {
    CommandRegistryImpl registry("irc", "1.2.3");
    bool ran = false;
    Command link{"link", "<!room>", "link a room", Permission::User, 1, [&](CommandCall&) { ran = true; }};
    link.roomArg = 0;
    registry.add(link);
    std::string reply;
    registry.handle(UserId("@alice:hs.test"), RoomId("!dm:hs.test"), "!link !room:hs.test", false,
                    [&](std::string text) { reply = std::move(text); });
    CHECK(reply == "!link is for bridge admins only here.");
    CHECK_FALSE(ran);
    registry.handle(UserId("@root:hs.test"), RoomId("!dm:hs.test"), "!link !room:hs.test", true,
                    [&](std::string text) { reply = std::move(text); });
    CHECK(ran);
}

TEST_CASE("a room argument with path tricks, control characters or over 255 bytes is refused, for admins too") {
    std::vector<std::string> checked;
    CommandRegistryImpl registry("irc", "1.2.3", [&](const UserId& user, const RoomId& room) -> Result<void> {
        checked.push_back(user.str() + " " + room.str());
        return {};
    });
    int ran = 0;
    Command link{"link", "<!room>", "link a room", Permission::User, 1, [&](CommandCall&) { ++ran; }};
    link.roomArg = 0;
    registry.add(link);
    const std::string longRoom = "!" + std::string(300, 'a') + ":hs.test";
    for (const std::string arg : {"!a:b/../../../_synapse/admin/v1/x", "!a:b?access_token=x#frag",
                                  "\"!room:hs.test\rQUIT\"", longRoom.c_str()}) {
        for (bool admin : {false, true}) {
            INFO(arg << (admin ? " (admin)" : ""));
            std::string reply;
            registry.handle(UserId("@root:hs.test"), RoomId("!dm:hs.test"), "!link " + arg, admin,
                            [&](std::string text) { reply = std::move(text); });
            CHECK(reply.find("is not a room id like !abc:example.org") != std::string::npos);
            CHECK(reply.find_first_of("\r\n") == std::string::npos);
            CHECK(reply.size() < 300);
        }
    }
    registry.stop();
    CHECK(ran == 0);
    CHECK(checked.empty());
}
