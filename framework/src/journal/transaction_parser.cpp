#include "journal/transaction_parser.h"

#include <simdjson.h>

#include "util/json_lone_surrogates.h"
#include "util/json_number_literals.h"

namespace mxbridge::detail {

namespace od = simdjson::ondemand;

struct TransactionParser::Impl {
    od::parser parser;
};

void TransactionParser::padBody(std::string& body) {
    if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
        body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    }
}

namespace {

std::string_view trimRight(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

struct BadShape {
    std::string message;
};

// Where an item sits, for error messages. Built into text only when something is wrong:
// formatting "events[12].room_id" for every field of every event cost more than parsing it.
struct Where {
    std::string_view array;
    size_t index;
    std::string operator()(std::string_view what) const {
        return std::string(array) + "[" + std::to_string(index) + "]" + std::string(what);
    }
};

// A wrong type is the sender's shape mistake (M_BAD_JSON); anything else means the bytes
// are not valid JSON at all (M_NOT_JSON). `message` is only called on error.
template <typename Message>
void check(simdjson::error_code error, Message&& message) {
    if (!error) return;
    if (error == simdjson::INCORRECT_TYPE || error == simdjson::NUMBER_OUT_OF_RANGE)
        throw BadShape{message()};
    throw simdjson::simdjson_error(error);
}

void check(simdjson::error_code error, const char* shapeMessage) {
    check(error, [&] { return std::string(shapeMessage); });
}

void readString(od::value value, const Where& where, const char* field, std::string& out) {
    std::string_view s;
    check(value.get_string().get(s), [&] { return where(std::string(".") + field + " must be a string"); });
    out.assign(s.data(), s.size());
}

// The first reason found is the one logged and told to the sender.
void markUnreadable(ParsedItem& item, const char* reason) {
    if (item.unreadable.empty()) item.unreadable = reason;
}

bool isObject(od::value value) {
    od::json_type type;
    return !value.type().get(type) && type == od::json_type::object;
}

// A timestamp that is not a number is the sender's shape mistake (M_BAD_JSON); a number no
// int64 holds (1e400, 2^64, 1.5) is valid JSON the bridge cannot use: that event is skipped.
void readTimestamp(od::value value, const Where& where, ParsedItem& item) {
    od::json_type type;
    check(value.type().get(type), [&] { return where(".origin_server_ts is malformed"); });
    if (type != od::json_type::number) throw BadShape{where(".origin_server_ts must be an integer")};
    int64_t ts = 0;
    if (value.get_int64().get(ts)) {
        markUnreadable(item, "its origin_server_ts is not a 64-bit integer");
        return;
    }
    item.fields.originServerTs = ts;
}

void readItems(od::value arrayValue, EventSource source, const char* base, std::string_view name,
               std::vector<ParsedItem>& out) {
    od::array array;
    check(arrayValue.get_array().get(array), [&] { return std::string(name) + " must be an array"; });
    size_t index = 0;
    for (auto element : array) {
        Where where{name, index++};
        od::object object;
        check(element.get_object().get(object), [&] { return where(" must be an object"); });
        ParsedItem item{.source = source, .offset = 0, .length = 0, .fields = {}, .unreadable = {}};
        bool hasType = false;
        bool hasContent = false;
        for (auto field : object) {
            std::string_view key;
            check(field.unescaped_key().get(key), [&] { return where(" has an unreadable key"); });
            if (key == "type") {
                readString(field.value(), where, "type", item.fields.type);
                hasType = true;
            } else if (key == "room_id") {
                readString(field.value(), where, "room_id", item.fields.roomId);
            } else if (key == "sender") {
                readString(field.value(), where, "sender", item.fields.sender);
            } else if (key == "event_id") {
                readString(field.value(), where, "event_id", item.fields.eventId);
            } else if (key == "state_key") {
                readString(field.value(), where, "state_key", item.fields.stateKey.emplace());
            } else if (key == "origin_server_ts") {
                readTimestamp(field.value(), where, item);
            } else if (key == "content") {
                hasContent = true;
                // Spec: content is an object for every kind of event; the hooks read it as one.
                if (!isObject(field.value())) markUnreadable(item, "its content is not an object");
            } else if (key == "unsigned" && source == EventSource::Timeline) {
                // Where prev_content and transaction_id live; a homeserver always sends an object.
                if (!isObject(field.value())) markUnreadable(item, "its unsigned is not an object");
            }
        }
        if (!hasContent && source != EventSource::Timeline) markUnreadable(item, "it has no content");
        std::string_view raw;
        check(object.raw_json().get(raw), [&] { return where(" is malformed"); });
        raw = trimRight(raw);
        if (!hasType) throw BadShape{where(" has no type")};
        if (source == EventSource::Timeline) {
            // The spec's ClientEvent: these are what routing and deduplication rely on.
            if (item.fields.eventId.empty()) throw BadShape{where(" has no event_id")};
            if (item.fields.roomId.empty()) throw BadShape{where(" has no room_id")};
            if (item.fields.sender.empty()) throw BadShape{where(" has no sender")};
            if (!hasContent) throw BadShape{where(" has no content")};
        }
        item.offset = static_cast<uint32_t>(raw.data() - base);
        item.length = static_cast<uint32_t>(raw.size());
        if (out.size() >= TransactionParser::kMaxItems) throw BadShape{"too many items"};
        out.push_back(std::move(item));
    }
}

// simdjson refuses two kinds of valid JSON (RFC 8259) by design, and a refused transaction is
// retried forever, stalling every room, so bodies with them get a second look, the slow path
// only they take: numbers past int64/uint64/double (NUMBER_ERROR, as for malformed ones) are
// checked as 0, and lone surrogate escapes (STRING_ERROR, as for `\uZZZZ`) as `\ufffd`, on a
// copy of the same length. Each rewrite is tried once, in the order the errors come; what is
// still refused is not JSON. `readable` gets the body with only its surrogates replaced, if
// it has any: the on-demand pass unescapes keys and routing fields, and cannot unescape those.
simdjson::error_code validateAsRfc8259Allows(simdjson::dom::parser& validator, const std::string& body,
                                             simdjson::error_code error,
                                             std::optional<std::string>& readable) {
    std::string checked = body;
    bool numbersZeroed = false;
    bool surrogatesReplaced = false;
    for (;;) {
        if (error == simdjson::NUMBER_ERROR && !numbersZeroed) {
            numbersZeroed = true;
            checked = withNumbersZeroed(checked);
        } else if (error == simdjson::STRING_ERROR && !surrogatesReplaced) {
            surrogatesReplaced = true;
            std::optional<std::string> replaced = withLoneSurrogatesReplaced(checked);
            if (!replaced) return error;
            checked = std::move(*replaced);
            readable = withLoneSurrogatesReplaced(body);
        } else {
            return error;
        }
        error = validator.parse(checked).error();
    }
}

}  // namespace

bool TransactionParser::cpuSupported() {
#if defined(MXBRIDGE_NEEDS_AVX2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
           __builtin_cpu_supports("pclmul");
#else
    return true;
#endif
}

ParseOutcome TransactionParser::parse(std::string& body) {
    if (!impl_) impl_ = std::make_shared<Impl>();
    ParseOutcome outcome;
    padBody(body);
    // A rough guess from the size (events are a few hundred bytes) saves regrowing.
    outcome.items.reserve(std::min<size_t>(body.size() / 256 + 1, 4096));
    try {
        od::document doc;
        auto padded = simdjson::padded_string_view(body.data(), body.size(), body.capacity());
        if (auto error = impl_->parser.iterate(padded).get(doc)) {
            outcome.status = ParseOutcome::Status::NotJson;
            outcome.error = std::string("body is not JSON: ") + simdjson::error_message(error);
            return outcome;
        }
        // The on-demand pass below skips what routing does not need (content, unknown keys)
        // without checking it, so first validate the whole body: malformed JSON anywhere is
        // M_NOT_JSON, and nesting past simdjson's depth limit never reaches a handler.
        // The DOM pass runs at several GB/s, a few microseconds for a typical transaction.
        thread_local simdjson::dom::parser validator;
        auto error = validator.parse(body.data(), body.size(), false).error();
        std::optional<std::string> readable;
        if (error == simdjson::NUMBER_ERROR || error == simdjson::STRING_ERROR)
            error = validateAsRfc8259Allows(validator, body, error, readable);
        if (error) {
            outcome.status = ParseOutcome::Status::NotJson;
            outcome.error = std::string("body is not JSON: ") + simdjson::error_message(error);
            return outcome;
        }
        // The on-demand pass reads a body with lone surrogates on a copy that has them
        // replaced; the copy has the body's length, so item offsets into it are offsets into
        // the body, which is journalled as it came.
        const char* text = body.data();
        if (readable) {
            padBody(*readable);
            padded = simdjson::padded_string_view(readable->data(), readable->size(), readable->capacity());
            if (auto error = impl_->parser.iterate(padded).get(doc)) {
                outcome.status = ParseOutcome::Status::NotJson;
                outcome.error = std::string("body is not JSON: ") + simdjson::error_message(error);
                return outcome;
            }
            text = readable->data();
        }
        od::object root;
        if (auto error = doc.get_object().get(root)) {
            bool notJson = error != simdjson::INCORRECT_TYPE;
            outcome.status = notJson ? ParseOutcome::Status::NotJson : ParseOutcome::Status::BadJson;
            outcome.error = notJson ? std::string("body is not JSON: ") + simdjson::error_message(error)
                                    : "body must be a JSON object";
            return outcome;
        }
        bool hasEvents = false;
        // A key given twice is read two ways: DOM readers (and so most homeserver tooling)
        // keep the last one, a streaming reader sees both. Refuse rather than guess.
        std::vector<std::string> itemKeys;
        auto once = [&](std::string_view key) {
            for (const auto& seen : itemKeys)
                if (seen == key) throw BadShape{"body has the key '" + seen + "' more than once"};
            itemKeys.emplace_back(key);
        };
        for (auto field : root) {
            std::string_view key;
            check(field.unescaped_key().get(key), "body has an unreadable key");
            if (key == "events" || key == "ephemeral" || key == "de.sorunome.msc2409.ephemeral" ||
                key == "to_device" || key == "de.sorunome.msc2409.to_device") {
                once(key);
            }
            if (key == "events") {
                hasEvents = true;
                readItems(field.value(), EventSource::Timeline, text, "events", outcome.items);
            } else if (key == "ephemeral" || key == "de.sorunome.msc2409.ephemeral") {
                readItems(field.value(), EventSource::Ephemeral, text, key, outcome.items);
            } else if (key == "to_device" || key == "de.sorunome.msc2409.to_device") {
                readItems(field.value(), EventSource::ToDevice, text, key, outcome.items);
            }
        }
        const char* trailing = nullptr;
        if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS) {
            outcome.status = ParseOutcome::Status::NotJson;
            outcome.error = "body is not JSON: trailing content after the object";
            outcome.items.clear();
            return outcome;
        }
        if (!hasEvents) {
            outcome.status = ParseOutcome::Status::BadJson;
            outcome.error = "body has no 'events' array";
            outcome.items.clear();
        }
    } catch (const BadShape& bad) {
        outcome.status = ParseOutcome::Status::BadJson;
        outcome.error = bad.message;
        outcome.items.clear();
    } catch (const simdjson::simdjson_error& e) {
        outcome.status = ParseOutcome::Status::NotJson;
        outcome.error = std::string("body is not JSON: ") + e.what();
        outcome.items.clear();
    }
    return outcome;
}

}  // namespace mxbridge::detail
