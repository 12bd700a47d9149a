#include <stdexcept>

#include "journal/transaction_parser.h"
#include "util/json_lone_surrogates.h"
#include "util/json_number_literals.h"
#include "mxbridge/events.h"

namespace mxbridge {

MatrixEvent::MatrixEvent(EventSource source, std::shared_ptr<const std::string> body,
                         std::string_view rawJson, Fields fields)
    : source_(source),
      body_(std::move(body)),
      raw_(rawJson),
      type_(std::move(fields.type)),
      roomId_(std::move(fields.roomId)),
      sender_(std::move(fields.sender)),
      eventId_(std::move(fields.eventId)),
      stateKey_(std::move(fields.stateKey)),
      originServerTs_(fields.originServerTs) {}

MatrixEvent MatrixEvent::fromJson(EventSource source, std::string rawJson) {
    // Reuse the transaction parser so a lone event is read exactly as a journalled one.
    const char* key = source == EventSource::Timeline    ? "events"
                      : source == EventSource::Ephemeral ? "ephemeral"
                                                         : "to_device";
    auto body = std::make_shared<std::string>(std::string("{\"events\":[") +
                                              (source == EventSource::Timeline ? "" : "],\"") +
                                              (source == EventSource::Timeline ? "" : key) +
                                              (source == EventSource::Timeline ? "" : "\":[") +
                                              rawJson + "]}");
    detail::TransactionParser parser;
    auto outcome = parser.parse(*body);
    if (outcome.status != detail::ParseOutcome::Status::Ok || outcome.items.size() != 1)
        throw std::invalid_argument("not a valid event: " + outcome.error);
    auto& item = outcome.items.front();
    std::string_view raw(body->data() + item.offset, item.length);
    return MatrixEvent(source, body, raw, std::move(item.fields));
}

const nlohmann::json& MatrixEvent::json() const {
    if (!json_) {
        // nlohmann refuses a whole event for a lone surrogate escape, which names no
        // character: hooks read U+FFFD in its place, as the transaction parser did.
        std::optional<std::string> replaced = detail::withLoneSurrogatesReplaced(raw_);
        std::string_view text = replaced ? std::string_view(*replaced) : raw_;
        // Numbers past int64/uint64/double reach hooks as strings of their exact text:
        // nlohmann would round big integers and refuse 1e400 (and so the whole event).
        std::optional<std::string> quoted = detail::withOutOfRangeNumbersQuoted(text);
        if (quoted) text = *quoted;
        json_ = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
        if (json_->is_discarded() || !json_->is_object()) json_ = nlohmann::json::object();
    }
    return *json_;
}

const nlohmann::json& MatrixEvent::content() const {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    const auto& j = json();
    auto it = j.find("content");
    return it != j.end() && it->is_object() ? *it : kEmpty;
}

}  // namespace mxbridge
