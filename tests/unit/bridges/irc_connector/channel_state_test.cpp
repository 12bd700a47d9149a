// One IRC channel as the bridge bot sees it: NAMES, joins, nick changes, prefix modes.
#include <doctest/doctest.h>

#include "channel_state.h"

using namespace mxbridge::irc;

TEST_CASE("a channel's members are the names of its last NAMES, with their prefix modes") {
    ChannelState ch;
    ch.rejoined("#Chan");
    ISupport rules;
    ch.addNames("@alice +Bob");
    ch.addNames("carol");
    CHECK(ch.members.empty());  // not before the end of the list
    auto named = ch.finishNames(rules, 0);
    REQUIRE(named.size() == 3);
    CHECK(named[0].nick == "alice");
    CHECK(named[0].modes == std::set<char>{'o'});
    CHECK(named[1].nick == "Bob");
    CHECK(named[1].modes == std::set<char>{'v'});
    CHECK(ch.namesDone);
    CHECK(ch.members.at("bob").nick == "Bob");
    CHECK(ch.isOp("alice"));
    CHECK_FALSE(ch.isOp("bob"));
    CHECK_FALSE(ch.lazy);

    // A NAMES after a finished one starts over: who is no longer listed is no longer there.
    ch.addNames("carol");
    auto again = ch.finishNames(rules, 0);
    CHECK(again.size() == 1);
    CHECK(ch.members.size() == 1);
    CHECK(ch.members.count("carol"));
}

TEST_CASE("a channel with more names than lazy_members_above is lazy") {
    ChannelState ch;
    ISupport rules;
    ch.addNames("a b c");
    ch.finishNames(rules, 2);
    CHECK(ch.lazy);
    ch.addNames("a b");
    ch.finishNames(rules, 2);
    CHECK_FALSE(ch.lazy);
}

TEST_CASE("a member who changes nick keeps their modes under the new nick") {
    ChannelState ch;
    ISupport rules;
    ch.addNames("@alice bob");
    ch.finishNames(rules, 0);
    auto m = ch.renamed("alice", "Alicia");
    REQUIRE(m);
    CHECK(m->nick == "Alicia");
    CHECK(m->modes == std::set<char>{'o'});
    CHECK_FALSE(ch.members.count("alice"));
    CHECK(ch.isOp("alicia"));
    CHECK_FALSE(ch.renamed("nobody", "x").has_value());
}

TEST_CASE("only prefix modes of present members change who has which rank") {
    ChannelState ch;
    ISupport rules;
    ch.addNames("alice bob");
    ch.finishNames(rules, 0);
    std::vector<ModeChange> changes = {{.mode = 'o', .add = true, .arg = "Alice"},
                                       {.mode = 'b', .add = true, .arg = "*!*@x"},
                                       {.mode = 'v', .add = true, .arg = "nobody"},
                                       {.mode = 'v', .add = true, .arg = "bob"}};
    auto changed = ch.applyModes(changes, rules.prefixModes());
    CHECK(changed == std::vector<std::string>{"alice", "bob"});
    CHECK(ch.isOp("alice"));
    changed = ch.applyModes({{.mode = 'o', .add = false, .arg = "alice"}}, rules.prefixModes());
    CHECK(changed == std::vector<std::string>{"alice"});
    CHECK_FALSE(ch.isOp("alice"));
}

TEST_CASE("a member who joins has no modes, even if they had some before") {
    ChannelState ch;
    ISupport rules;
    ch.addNames("@alice");
    ch.finishNames(rules, 0);
    ch.joined("alice");
    CHECK_FALSE(ch.isOp("alice"));
}
