// What the framework hands a connector from Matrix. The journal keeps each event's raw JSON;
// the few fields routing needs are read up front, the content is parsed on first use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mxbridge/ids.h"

namespace mxbridge {

// Which part of a transaction an item came from.
enum class EventSource { Timeline, Ephemeral, ToDevice };

class MatrixEvent {
public:
    // The routing fields, as read from the raw JSON by the transaction parser.
    struct Fields {
        std::string type;
        std::string roomId;
        std::string sender;
        std::string eventId;
        std::optional<std::string> stateKey;
        int64_t originServerTs = 0;
    };

    // `body` owns the bytes `rawJson` points into (the whole transaction, shared by its events).
    MatrixEvent(EventSource source, std::shared_ptr<const std::string> body, std::string_view rawJson,
                Fields fields);
    // Parses one event's JSON on its own; throws std::invalid_argument when it is not an object.
    static MatrixEvent fromJson(EventSource source, std::string rawJson);

    EventSource source() const { return source_; }
    const std::string& type() const { return type_; }
    const RoomId& roomId() const { return roomId_; }    // empty for presence and to-device
    const UserId& sender() const { return sender_; }
    const EventId& eventId() const { return eventId_; }  // empty for ephemeral and to-device
    const std::optional<std::string>& stateKey() const { return stateKey_; }
    bool isState() const { return stateKey_.has_value(); }
    int64_t originServerTs() const { return originServerTs_; }
    // True when the event was replayed from the journal after a restart.
    bool replayed() const { return replayed_; }
    void markReplayed() { replayed_ = true; }

    // The whole event as sent by the homeserver, and its parsed forms (parsed once, lazily;
    // malformed JSON yields an empty object). rawJson() is byte-exact; in json() a number no
    // int64, uint64 or double holds (2^64, 1e400) is a string of its exact text, and a lone
    // surrogate escape (a UTF-16 half, no character) is U+FFFD, in json() and in the ids.
    std::string_view rawJson() const { return raw_; }
    const nlohmann::json& json() const;
    const nlohmann::json& content() const;

private:
    EventSource source_;
    std::shared_ptr<const std::string> body_;
    std::string_view raw_;
    std::string type_;
    RoomId roomId_;
    UserId sender_;
    EventId eventId_;
    std::optional<std::string> stateKey_;
    int64_t originServerTs_ = 0;
    bool replayed_ = false;
    // Parsed on first use. An event is handled on one room queue at a time, so no lock.
    mutable std::optional<nlohmann::json> json_;
};

}  // namespace mxbridge
