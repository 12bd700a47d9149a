// Mentions: m.mentions from pills, pills to names, and names to pills.
#include <doctest/doctest.h>

#include "mxbridge/format/mentions.h"

using namespace mxbridge::format;

TEST_CASE("the spec's mention example gives its m.mentions") {
    Mentions m = mentionsInHtml("Hello <a href='https://matrix.to/#/@alice:example.org'>Alice</a>!");
    CHECK(m.userIds() == std::vector<std::string>{"@alice:example.org"});
    CHECK(m.toJson() == "{\"user_ids\":[\"@alice:example.org\"]}");
}

TEST_CASE("m.mentions lists each user once, in order, never the sender, and may be empty") {
    Mentions m = mentionsInHtml(
        "<a href=\"https://matrix.to/#/@b:e.org\">B</a> <a href=\"matrix:u/a:e.org\">A</a> "
        "<a href=\"https://matrix.to/#/%40b%3Ae.org\">B again</a> <a href=\"https://matrix.to/#/#room:e.org\">r</a> "
        "<a href=\"https://matrix.to/#/@me:e.org\">me</a>");
    m.removeUser("@me:e.org");
    CHECK(m.userIds() == std::vector<std::string>{"@b:e.org", "@a:e.org"});
    m.mentionRoom();
    CHECK(m.toJson() == "{\"user_ids\":[\"@b:e.org\",\"@a:e.org\"],\"room\":true}");
    CHECK(Mentions().toJson() == "{}");
    Mentions odd;
    odd.addUser("@quo\"te\\:e.org");
    odd.addUser("@nl\n:e.org");
    CHECK(odd.toJson() == "{\"user_ids\":[\"@quo\\\"te\\\\:e.org\",\"@nl\\u000a:e.org\"]}");
}

TEST_CASE("user pills become the names the network knows, other links stay") {
    auto nameFor = [](const std::string& user) -> std::optional<std::string> {
        if (user == "@irc_bob:e.org") return "bob";
        if (user == "@evil:e.org") return "<b>x</b>";
        return std::nullopt;
    };
    CHECK(replacePills("<a href=\"https://matrix.to/#/@irc_bob:e.org\">Bob (IRC)</a>: hi", nameFor) == "bob: hi");
    CHECK(replacePills("<a href=\"https://matrix.to/#/@carol:e.org\">Carol</a>", nameFor) ==
          "<a href=\"https://matrix.to/#/@carol:e.org\">Carol</a>");
    CHECK(replacePills("<a href=\"https://matrix.to/#/@evil:e.org\"><b>E</b></a>", nameFor) ==
          "&lt;b&gt;x&lt;/b&gt;<b></b>");
    CHECK(replacePills("<a href=\"https://e.org\">site</a>", nameFor) == "<a href=\"https://e.org\">site</a>");
}

TEST_CASE("names found in text become pills, but not inside links or code") {
    auto find = [](std::string_view text) {
        std::vector<NameMatch> found;
        for (std::size_t p = text.find("bob"); p != std::string_view::npos; p = text.find("bob", p + 3))
            found.push_back({.offset = p, .length = 3, .userId = "@irc_bob:e.org"});
        return found;
    };
    CHECK(linkNames("bob: hi <code>bob</code> <a href=\"https://e.org\">bob</a> &amp; bob", find) ==
          "<a href=\"https://matrix.to/#/@irc_bob:e.org\">bob</a>: hi <code>bob</code> "
          "<a href=\"https://e.org\">bob</a> &amp; <a href=\"https://matrix.to/#/@irc_bob:e.org\">bob</a>");
}

TEST_CASE("a name finder's bad matches are skipped, never trusted") {
    auto bad = [](std::string_view) {
        return std::vector<NameMatch>{{.offset = 2, .length = 100, .userId = "@x:e.org"},
                                      {.offset = 0, .length = 1, .userId = ""},
                                      {.offset = 0, .length = 2, .userId = "@y:e.org"},
                                      {.offset = 1, .length = 1, .userId = "@z:e.org"}};
    };
    CHECK(linkNames("abc", bad) == "<a href=\"https://matrix.to/#/@y:e.org\">ab</a>c");
}
