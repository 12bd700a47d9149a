// The IRC outbound ledger: what a restart sends again, and what it must not.
#include <doctest/doctest.h>

#include <stdexcept>

#include "mxbridge/testing/memory_stores.h"
#include "outbound_ledger.h"

using namespace mxbridge;
using namespace mxbridge::irc;

namespace {

// The kit's in-memory kv store survives a ledger's "restart" as the framework's does.
using MemoryKv = mxbridge::testing::MemoryKvStore;

OutboundLedger::Line lineFrom(const std::string& connection, const std::string& text) {
    return OutboundLedger::Line{.seq = 0,
                                .connection = connection,
                                .senderName = "Alice",
                                .room = RoomId("!r:hs"),
                                .event = EventId("$" + text),
                                .target = RemoteRoomId("net/#chan"),
                                .wire = "PRIVMSG #chan :" + text,
                                .paste = std::nullopt};
}

std::vector<std::string> wiresOf(const std::vector<OutboundLedger::Line>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.wire);
    return out;
}

}  // namespace

TEST_CASE("lines the ircd never confirmed are owed after a restart, in order, and confirmed ones are not") {
    MemoryKv kv;
    {
        OutboundLedger ledger(kv, "net", Logger("test"));
        CHECK(ledger.owed().empty());
        std::vector<OutboundLedger::Line> lines;
        for (const char* text : {"one", "two", "three", "four"}) {
            lines.push_back(lineFrom("@alice:hs", text));
            ledger.stage(lines.back());
        }
        CHECK(lines[0].seq < lines[1].seq);
        ledger.settled(lines[0].seq);
        ledger.settled(lines[1].seq);
        ledger.stop();  // as at a clean stop, or a crash once the writer had written
    }
    OutboundLedger again(kv, "net", Logger("test"));
    auto owed = again.owed();
    CHECK(wiresOf(owed) == std::vector<std::string>{"PRIVMSG #chan :three", "PRIVMSG #chan :four"});
    // New lines come after the owed ones.
    auto fresh = lineFrom("@alice:hs", "five");
    again.stage(fresh);
    CHECK(fresh.seq > owed.back().seq);
}

TEST_CASE("a connection's mark never passes a line still in flight, so a later confirmation loses nothing") {
    MemoryKv kv;
    {
        OutboundLedger ledger(kv, "net", Logger("test"));
        ledger.owed();
        auto a = lineFrom("@alice:hs", "a"), b = lineFrom("@alice:hs", "b"), c = lineFrom("@alice:hs", "c");
        auto bot = lineFrom("", "relayed");
        ledger.stage(a);
        ledger.stage(b);
        ledger.stage(bot);
        ledger.stage(c);
        ledger.settled(a.seq);
        ledger.settled(c.seq);    // out of order: b is still owed
        ledger.settled(bot.seq);  // another connection's mark moves on its own
        ledger.stop();
    }
    OutboundLedger again(kv, "net", Logger("test"));
    CHECK(wiresOf(again.owed()) == std::vector<std::string>{"PRIVMSG #chan :b"});
}

TEST_CASE("a line whose stored copy outlived its confirmation is not sent twice") {
    MemoryKv kv;
    OutboundLedger::Line line = lineFrom("@alice:hs", "once");
    {
        OutboundLedger ledger(kv, "net", Logger("test"));
        ledger.owed();
        ledger.stage(line);
        ledger.settled(line.seq);
        ledger.stop();
    }
    // The hook's commit of the line landed after the erase that followed its echo.
    kv.put("irc.out.net.q." + std::string(20 - std::to_string(line.seq).size(), '0') + std::to_string(line.seq),
           OutboundLedger::encode(line));
    OutboundLedger again(kv, "net", Logger("test"));
    CHECK(again.owed().empty());
    CHECK(kv.list("irc.out.net.q.").empty());
}

TEST_CASE("a line given up names its event once, and an unreadable stored line is dropped with an error") {
    MemoryKv kv;
    kv.put("irc.out.net.q.00000000000000000007", "{not json");
    OutboundLedger ledger(kv, "net", Logger("test"));
    CHECK(ledger.owed().empty());
    CHECK(kv.list("irc.out.net.q.").empty());
    auto line = lineFrom("@alice:hs", "lost");
    ledger.stage(line);
    CHECK(line.seq > 7);
    auto origin = ledger.failed(line.seq);
    REQUIRE(origin);
    CHECK(origin->event == EventId("$lost"));
    CHECK_FALSE(ledger.failed(line.seq));
    std::uint64_t edit = ledger.track({"@alice:hs", RoomId("!r:hs"), EventId("$edit")});
    CHECK(ledger.failed(edit)->event == EventId("$edit"));
}

TEST_CASE("a paste is stored whole and read back whole") {
    OutboundLedger::Line line = lineFrom("", "");
    line.wire.clear();
    line.paste = OutboundLedger::Paste{.body = "l1\nl2", .head = "<alice> l1", .kind = MessageKind::Notice,
                                       .wires = {"NOTICE #chan :<alice> l1", "NOTICE #chan :<alice> l2"}};
    auto back = OutboundLedger::decode(3, OutboundLedger::encode(line));
    REQUIRE(back);
    REQUIRE(back->paste);
    CHECK(back->seq == 3);
    CHECK(back->paste->body == "l1\nl2");
    CHECK(back->paste->kind == MessageKind::Notice);
    CHECK(back->paste->wires.size() == 2);
    CHECK(back->connection.empty());
}

TEST_CASE("a network whose name would be a prefix of another's queue is refused, and that queue survives") {
    MemoryKv kv;
    {
        OutboundLedger other(kv, "a-q", Logger("test"));
        auto line = lineFrom("@alice:hs", "kept");
        other.stage(line);
        other.stop();
    }
    // "a.q" would list its lines under irc.out.a.q.q., a prefix network "a" also lists.
    CHECK_THROWS_AS(OutboundLedger(kv, "a.q", Logger("test")), std::invalid_argument);
    CHECK_THROWS_AS(OutboundLedger(kv, "", Logger("test")), std::invalid_argument);
    {
        OutboundLedger a(kv, "a", Logger("test"));
        CHECK(a.owed().empty());
    }
    OutboundLedger again(kv, "a-q", Logger("test"));
    CHECK(wiresOf(again.owed()) == std::vector<std::string>{"PRIVMSG #chan :kept"});
}

TEST_CASE("a paste sent line by line after a failed upload is confirmed even when its last stored line no longer parses") {
    auto line = lineFrom("@alice:hs", "head");
    line.seq = 42;
    line.paste = OutboundLedger::Paste{.body = "one\ntwo\n",
                                       .head = "one",
                                       .kind = MessageKind::Text,
                                       .wires = {"PRIVMSG #chan :one", "PRIVMSG #chan :two", ""}};
    auto lines = pasteFallbackLines(line);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].message.serialize() == "PRIVMSG #chan :one");
    CHECK(lines[0].receipt == 0);
    CHECK(lines[1].message.serialize() == "PRIVMSG #chan :two");
    CHECK(lines[1].receipt == 42);  // the receipt rides on the last line actually sent

    line.paste->wires = {"", "   "};
    CHECK(pasteFallbackLines(line).empty());  // nothing to send: the caller settles it as failed
}
