// Bot commands: parsing, quoting, permissions, the generated !help, unknown commands and
// commands that throw.
#include <doctest/doctest.h>

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
