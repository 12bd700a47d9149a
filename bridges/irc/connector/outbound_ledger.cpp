// OutboundLedger: the durable queue of Matrix lines for IRC (see outbound_ledger.h).
#include "outbound_ledger.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mxbridge::irc {

namespace {

constexpr const char* kLines = "q.";
constexpr const char* kMarks = "done.";
// A user id starts with '@', so this never names a puppet's connection.
constexpr const char* kBotConnection = "~bot";

std::string kindName(MessageKind kind) {
    return kind == MessageKind::Notice ? "notice" : kind == MessageKind::Emote ? "emote" : "text";
}

MessageKind kindNamed(const std::string& name) {
    return name == "notice" ? MessageKind::Notice : name == "emote" ? MessageKind::Emote : MessageKind::Text;
}

std::optional<std::uint64_t> number(const std::string& digits) {
    if (digits.empty() || digits.size() > 20 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    try {
        return std::stoull(digits);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Keys are listed by prefix: network "a" lists irc.out.a.q., which would also match network
// "a.q"'s irc.out.a.q.q.<seq> and erase them as unreadable. A name with no '.' cannot be a
// prefix of another's keys (the config allows only [a-z0-9-]; this keeps the ledger safe alone).
std::string ledgerPrefix(const std::string& network) {
    if (network.empty() || network.find('.') != std::string::npos)
        throw std::invalid_argument("IRC outbound ledger: network name \"" + network +
                                    "\" must be non-empty and hold no '.'");
    return "irc.out." + network + ".";
}

}  // namespace

OutboundLedger::OutboundLedger(KvStore& kv, const std::string& network, Logger log)
    : kv_(kv), prefix_(ledgerPrefix(network)), log_(std::move(log)) {
    writer_ = std::thread([this] { run(); });
}

OutboundLedger::~OutboundLedger() { stop(); }

std::string OutboundLedger::lineKey(std::uint64_t seq) const {
    char digits[21];
    std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
    return prefix_ + kLines + digits;
}

std::string OutboundLedger::markKey(const std::string& connection) const {
    return prefix_ + kMarks + (connection.empty() ? kBotConnection : connection);
}

std::string OutboundLedger::encode(const Line& line) {
    nlohmann::json j{{"c", line.connection}, {"n", line.senderName}, {"r", line.room.str()},
                     {"e", line.event.str()}, {"t", line.target.str()}, {"w", line.wire}};
    if (line.paste)
        j["p"] = {{"b", line.paste->body}, {"h", line.paste->head}, {"k", kindName(line.paste->kind)},
                  {"l", line.paste->wires}};
    return j.dump();
}

std::optional<OutboundLedger::Line> OutboundLedger::decode(std::uint64_t seq, const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    for (const char* field : {"c", "n", "r", "e", "t", "w"})
        if (!j.contains(field) || !j[field].is_string()) return std::nullopt;
    Line line{.seq = seq,
              .connection = j["c"].get<std::string>(),
              .senderName = j["n"].get<std::string>(),
              .room = RoomId(j["r"].get<std::string>()),
              .event = EventId(j["e"].get<std::string>()),
              .target = RemoteRoomId(j["t"].get<std::string>()),
              .wire = j["w"].get<std::string>(),
              .paste = std::nullopt};
    if (j.contains("p")) {
        const auto& p = j["p"];
        if (!p.is_object() || !p.contains("b") || !p["b"].is_string() || !p.contains("h") || !p["h"].is_string() ||
            !p.contains("k") || !p["k"].is_string() || !p.contains("l") || !p["l"].is_array())
            return std::nullopt;
        Paste paste{.body = p["b"].get<std::string>(), .head = p["h"].get<std::string>(),
                    .kind = kindNamed(p["k"].get<std::string>()), .wires = {}};
        for (const auto& w : p["l"]) {
            if (!w.is_string()) return std::nullopt;
            paste.wires.push_back(w.get<std::string>());
        }
        line.paste = std::move(paste);
    } else if (line.wire.empty()) {
        return std::nullopt;
    }
    return line;
}

std::vector<OutboundLedger::Line> OutboundLedger::owed() {
    std::map<std::string, std::uint64_t> marks;
    for (const auto& [key, value] : kv_.list(prefix_ + kMarks)) {
        std::string connection = key.substr(prefix_.size() + std::char_traits<char>::length(kMarks));
        if (connection == kBotConnection) connection.clear();
        if (auto n = number(value)) marks[connection] = *n;
    }
    std::vector<Line> owed;
    std::vector<std::string> settledKeys;
    std::uint64_t highest = 0;
    for (const auto& [key, value] : kv_.list(prefix_ + kLines)) {
        auto seq = number(key.substr(prefix_.size() + std::char_traits<char>::length(kLines)));
        if (seq) highest = std::max(highest, *seq);  // never reused, even when unreadable
        auto line = seq ? decode(*seq, value) : std::nullopt;
        if (!line) {
            log_.error("unreadable line in the IRC outbound queue; dropped", {{"key", key}, {"value", value}});
            settledKeys.push_back(key);
            continue;
        }
        auto mark = marks.find(line->connection);
        if (mark != marks.end() && *seq <= mark->second) {
            settledKeys.push_back(key);  // the ircd had it; only the erase was lost
            continue;
        }
        owed.push_back(std::move(*line));
    }
    for (const auto& key : settledKeys) kv_.erase(key);
    std::lock_guard lock(mutex_);
    for (const auto& [connection, mark] : marks) {
        highest = std::max(highest, mark);
        highestSettled_[connection] = mark;
        markWritten_[connection] = mark;
    }
    nextSeq_ = std::max(nextSeq_, highest + 1);
    for (const Line& line : owed) {
        inFlight_[line.seq] = Origin{line.connection, line.room, line.event};
        stored_.insert(line.seq);
        inFlightByConnection_[line.connection].insert(line.seq);
    }
    if (!owed.empty()) log_.info("IRC lines owed from before the restart", {{"lines", owed.size()}});
    return owed;
}

void OutboundLedger::stage(Line& line) {
    {
        std::lock_guard lock(mutex_);
        line.seq = nextSeq_++;
        inFlight_[line.seq] = Origin{line.connection, line.room, line.event};
        stored_.insert(line.seq);
        inFlightByConnection_[line.connection].insert(line.seq);
    }
    kv_.put(lineKey(line.seq), encode(line));
}

std::uint64_t OutboundLedger::track(Origin origin) {
    std::lock_guard lock(mutex_);
    std::uint64_t seq = nextSeq_++;
    inFlightByConnection_[origin.connection].insert(seq);
    inFlight_[seq] = std::move(origin);
    return seq;
}

std::optional<OutboundLedger::Origin> OutboundLedger::settleLocked(std::uint64_t seq) {
    auto it = inFlight_.find(seq);
    if (it == inFlight_.end()) return std::nullopt;
    Origin origin = std::move(it->second);
    inFlight_.erase(it);
    if (stored_.erase(seq)) keysToErase_.push_back(seq);
    auto& pending = inFlightByConnection_[origin.connection];
    pending.erase(seq);
    std::uint64_t& highest = highestSettled_[origin.connection];
    highest = std::max(highest, seq);
    // Never past a line of this connection still in flight: it may yet be lost.
    std::uint64_t mark = pending.empty() ? highest : std::min(highest, *pending.begin() - 1);
    if (mark > markWritten_[origin.connection]) {
        markWritten_[origin.connection] = mark;
        marksToWrite_[origin.connection] = mark;
    }
    if (pending.empty()) inFlightByConnection_.erase(origin.connection);
    wake_.notify_one();
    return origin;
}

void OutboundLedger::settled(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    settleLocked(seq);
}

std::optional<OutboundLedger::Origin> OutboundLedger::failed(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    return settleLocked(seq);
}

void OutboundLedger::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
}

// Writes outside a hook block until committed: done here, so neither the IRC loop nor a
// hook waits for the database.
void OutboundLedger::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !marksToWrite_.empty() || !keysToErase_.empty(); });
        if (marksToWrite_.empty() && keysToErase_.empty()) return;  // stopping, all written
        auto marks = std::move(marksToWrite_);
        auto keys = std::move(keysToErase_);
        marksToWrite_.clear();
        keysToErase_.clear();
        lock.unlock();
        try {
            for (const auto& [connection, mark] : marks) kv_.put(markKey(connection), std::to_string(mark));
            for (std::uint64_t seq : keys) kv_.erase(lineKey(seq));
        } catch (const std::exception& e) {
            // Not fatal: what is not erased is sent again at the next start.
            log_.error("IRC outbound queue not updated", {{"error", e.what()}});
        }
        lock.lock();
    }
}

std::vector<PasteFallbackLine> pasteFallbackLines(const OutboundLedger::Line& line) {
    std::vector<PasteFallbackLine> out;
    if (!line.paste) return out;
    for (const std::string& wire : line.paste->wires)
        if (auto m = IrcMessage::parse(wire)) out.push_back({.message = std::move(*m), .receipt = 0});
    if (!out.empty()) out.back().receipt = line.seq;
    return out;
}

}  // namespace mxbridge::irc
