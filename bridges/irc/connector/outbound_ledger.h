// Matrix messages on their way to IRC, kept in the bridge's key/value store from the hook
// that accepted them until the ircd has them, so that neither a crash nor a clean stop loses
// one: what is still owed at start is sent again, in order, before anything new.
//
// Keys, per network:
//   irc.out.<network>.q.<seq, 20 digits>  one line (JSON), written by the hook (committed with
//                                         the event's done mark)
//   irc.out.<network>.done.<connection>   the highest seq of that connection up to which every
//                                         line is settled (the ircd has it, or it was given up
//                                         and its sender told)
// A connection sends its lines in seq order, and the mark never passes a line still in
// flight, so a line at or below its connection's mark is settled even when the erase of its
// own key was not written before a crash (or was written before the hook's commit of it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <mxbridge/connector.h>
#include <mxbridge/irc/message.h>

namespace mxbridge::irc {

class OutboundLedger {
public:
    // The whole text of a long message goes to the media repository and IRC gets one line
    // with its link (`head` + " … (N lines: link)"), or every line when the upload fails.
    struct Paste {
        std::string body;
        std::string head;                // the first line, with the relay prefix
        MessageKind kind = MessageKind::Text;
        std::vector<std::string> wires;  // every line, for the fallback
    };
    struct Line {
        std::uint64_t seq = 0;   // set by stage()
        std::string connection;  // the Matrix user whose puppet sends it; empty: the bridge bot
        std::string senderName;  // the puppet's display name, for its nick after a restart
        RoomId room;
        EventId event;
        RemoteRoomId target;     // the channel or private chat it goes to
        std::string wire;        // the IRC line, serialized without CRLF (unless a paste)
        std::optional<Paste> paste;
    };
    // Whom to tell when a line is given up.
    struct Origin {
        std::string connection;
        RoomId room;
        EventId event;
    };

    OutboundLedger(KvStore& kv, const std::string& network, Logger log);
    ~OutboundLedger();
    OutboundLedger(const OutboundLedger&) = delete;
    OutboundLedger& operator=(const OutboundLedger&) = delete;

    // Once, before anything is staged: the lines still owed from before, in seq order; what
    // is settled already is erased. Unreadable entries are logged and erased.
    std::vector<Line> owed();
    // In a hook: gives `line` its seq and stores it (staged with the event's done mark).
    void stage(Line& line);
    // A line that is not stored (an edit sent after its hook returned) but is told when it
    // fails like the others: its seq.
    std::uint64_t track(Origin origin);
    // Any thread, never blocks: the ircd has line `seq`.
    void settled(std::uint64_t seq);
    // Any thread, never blocks: line `seq` will not be sent; whom to tell (nothing when the
    // seq is unknown or settled already).
    std::optional<Origin> failed(std::uint64_t seq);
    // Writes what is settled and stops the writer thread. Settlements after this are lost
    // (their lines are sent again at the next start).
    void stop();

    static std::string encode(const Line& line);
    static std::optional<Line> decode(std::uint64_t seq, const std::string& json);

private:
    std::string lineKey(std::uint64_t seq) const;
    std::string markKey(const std::string& connection) const;
    // Under mutex_: forgets `seq` and moves its connection's mark as far as it may go.
    std::optional<Origin> settleLocked(std::uint64_t seq);
    void run();

    KvStore& kv_;
    const std::string prefix_;  // "irc.out.<network>."
    Logger log_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::uint64_t nextSeq_ = 1;
    std::map<std::uint64_t, Origin> inFlight_;
    std::set<std::uint64_t> stored_;  // seqs of inFlight_ that have a key
    std::map<std::string, std::set<std::uint64_t>> inFlightByConnection_;
    std::map<std::string, std::uint64_t> highestSettled_;
    std::map<std::string, std::uint64_t> markWritten_;
    // For the writer thread.
    std::map<std::string, std::uint64_t> marksToWrite_;
    std::vector<std::uint64_t> keysToErase_;
    bool stopping_ = false;
    std::thread writer_;
};

// A paste sent line by line when its upload failed: every stored wire that parses, in order.
// Only the last carries the line's seq as its receipt (the connection confirms in order; 0 is
// none), so a wire that no longer parses never leaves the seq unsettled. Empty when none parses.
struct PasteFallbackLine {
    IrcMessage message;
    std::uint64_t receipt = 0;
};
std::vector<PasteFallbackLine> pasteFallbackLines(const OutboundLedger::Line& line);

}  // namespace mxbridge::irc
