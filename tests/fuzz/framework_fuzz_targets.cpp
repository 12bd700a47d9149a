// Properties checked by the framework's fuzzers: the appservice transaction parser against a
// reference reading with nlohmann::json, and the config and registration loaders.
#include "framework_fuzz_targets.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fuzz_check.h"
#include "journal/transaction_parser.h"
#include "util/json_lone_surrogates.h"
#include "util/json_number_literals.h"
#include "mxbridge/config.h"
#include "mxbridge/registration.h"

namespace mxbridge::fuzz {

namespace {

using json = nlohmann::json;
using detail::ParseOutcome;
using detail::TransactionParser;
using Status = ParseOutcome::Status;

struct ExpectedItem {
    EventSource source;
    MatrixEvent::Fields fields;
    bool unreadable = false;  // acknowledged but skipped: a field the spec types is mistyped
};

// What TransactionParser should find in a body, read with nlohmann's SAX interface rather
// than a DOM: a DOM keeps one value per duplicated key, while the parser (like this reader)
// sees every key in document order. A later duplicate field of an event overrides an
// earlier one; an item list ("events", "ephemeral"...) given twice is a shape error.
class ReferenceReader final : public json::json_sax_t {
public:
    std::vector<ExpectedItem> items;
    bool shapeOk = true;  // what the parser must answer M_BAD_JSON for when false
    bool hasEvents = false;
    // Valid JSON that simdjson refuses by design: nesting past its depth limit. The parser
    // may refuse it as M_NOT_JSON. (Numbers of any size it must accept.)
    bool beyondLimits = false;
    // Where nlohmann stopped at a number no double holds (1e400), which RFC 8259 allows.
    std::optional<std::pair<std::size_t, std::string>> overflow;
    // Where nlohmann stopped at a lone surrogate escape, which RFC 8259 allows too, and
    // whether it was a high one (then nlohmann read past it to see what follows).
    std::optional<std::pair<std::size_t, std::string>> loneSurrogate;
    bool loneHigh = false;

    bool null() override { return value(Kind::Other); }
    bool boolean(bool) override { return value(Kind::Other); }
    bool number_integer(number_integer_t v) override { return value(Kind::Integer, nullptr, v); }
    bool number_unsigned(number_unsigned_t v) override {
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return value(Kind::Number);
        return value(Kind::Integer, nullptr, static_cast<std::int64_t>(v));
    }
    bool number_float(number_float_t, const string_t&) override { return value(Kind::Number); }
    bool string(string_t& s) override { return value(Kind::String, &s); }
    bool binary(binary_t&) override { return value(Kind::Other); }
    bool start_object(std::size_t) override { return open(Kind::Object); }
    bool start_array(std::size_t) override { return open(Kind::Array); }
    bool key(string_t& k) override {
        if (depth_ == 1) {
            list_ = sourceOf(k);
            if (list_) {
                if (std::find(listKeys_.begin(), listKeys_.end(), k) != listKeys_.end()) shapeOk = false;
                listKeys_.push_back(k);
            }
        } else if (depth_ == 3 && inItem_) {
            field_ = k;
        }
        return true;
    }
    bool end_object() override {
        if (depth_ == 3 && inItem_) finishItem();
        --depth_;
        return true;
    }
    bool end_array() override {
        if (depth_ == 2 && inList_) inList_ = false;
        --depth_;
        return true;
    }
    bool parse_error(std::size_t position, const std::string& token,
                     const nlohmann::detail::exception& e) override {
        if (e.id == 406) overflow.emplace(position, token);  // "number overflow parsing '1e400'"
        // Only the description: nlohmann ends its message with "; last read: '<token>'", and a
        // token may spell these very words (found by libFuzzer: a key holding them before a
        // "\ud80t" that is no escape at all, taken for a lone surrogate and "repaired").
        std::string_view what = e.what();
        what = what.substr(0, what.find("; last read:"));
        if (e.id == 101 && what.find("surrogate U+D800..U+DBFF must be followed by") != what.npos) {
            loneSurrogate.emplace(position, token);
            loneHigh = true;
        } else if (e.id == 101 && what.find("surrogate U+DC00..U+DFFF must follow") != what.npos) {
            loneSurrogate.emplace(position, token);
        }
        return false;
    }

private:
    // Number: one no int64 holds (past 2^63, a fraction, an exponent).
    enum class Kind { String, Integer, Number, Object, Array, Other };
    std::vector<std::string> listKeys_;  // item lists seen at the top level

    static std::optional<EventSource> sourceOf(std::string_view key) {
        if (key == "events") return EventSource::Timeline;
        if (key == "ephemeral" || key == "de.sorunome.msc2409.ephemeral")
            return EventSource::Ephemeral;
        if (key == "to_device" || key == "de.sorunome.msc2409.to_device")
            return EventSource::ToDevice;
        return std::nullopt;
    }

    bool open(Kind kind) {
        value(kind);
        if (++depth_ >= 1000) beyondLimits = true;  // simdjson's default limit is 1024
        return true;
    }

    // Every value, scalar or the start of a container, before the depth changes.
    bool value(Kind kind, const std::string* text = nullptr, std::int64_t integer = 0) {
        if (depth_ == 0) {
            rootIsObject_ = kind == Kind::Object;
            if (!rootIsObject_) shapeOk = false;
        } else if (depth_ == 1 && rootIsObject_ && list_) {
            if (kind != Kind::Array) {
                shapeOk = false;
            } else {
                inList_ = true;
                listSource_ = *list_;
                if (listSource_ == EventSource::Timeline) hasEvents = true;
            }
        } else if (depth_ == 2 && inList_) {
            if (kind != Kind::Object) {
                shapeOk = false;
            } else {
                inItem_ = true;
                item_ = ExpectedItem{.source = listSource_, .fields = {}, .unreadable = false};
                hasType_ = hasContent_ = false;
            }
        } else if (depth_ == 3 && inItem_) {
            fieldValue(kind, text, integer);
        }
        return true;
    }

    void fieldValue(Kind kind, const std::string* text, std::int64_t integer) {
        auto& f = item_.fields;
        if (field_ == "content") {
            hasContent_ = true;
            if (kind != Kind::Object) item_.unreadable = true;
        } else if (field_ == "unsigned" && item_.source == EventSource::Timeline) {
            if (kind != Kind::Object) item_.unreadable = true;
        } else if (field_ == "origin_server_ts") {
            if (kind == Kind::Integer)
                f.originServerTs = integer;
            else if (kind == Kind::Number)
                item_.unreadable = true;
            else
                shapeOk = false;
        } else if (field_ == "type" || field_ == "room_id" || field_ == "sender" ||
                   field_ == "event_id" || field_ == "state_key") {
            if (kind != Kind::String) {
                shapeOk = false;
                return;
            }
            if (field_ == "type") {
                f.type = *text;
                hasType_ = true;
            } else if (field_ == "room_id") {
                f.roomId = *text;
            } else if (field_ == "sender") {
                f.sender = *text;
            } else if (field_ == "event_id") {
                f.eventId = *text;
            } else {
                f.stateKey = *text;
            }
        }
    }

    void finishItem() {
        inItem_ = false;
        const auto& f = item_.fields;
        if (!hasType_) shapeOk = false;
        // The spec's ClientEvent fields that routing and deduplication rely on.
        if (item_.source == EventSource::Timeline &&
            (f.eventId.empty() || f.roomId.empty() || f.sender.empty() || !hasContent_))
            shapeOk = false;
        if (item_.source != EventSource::Timeline && !hasContent_) item_.unreadable = true;
        items.push_back(item_);
    }

    int depth_ = 0;  // containers open around the next event
    bool rootIsObject_ = false;
    std::optional<EventSource> list_;  // what the current root key holds, if anything
    bool inList_ = false;
    EventSource listSource_ = EventSource::Timeline;
    bool inItem_ = false;
    ExpectedItem item_{.source = EventSource::Timeline, .fields = {}, .unreadable = false};
    std::string field_;
    bool hasType_ = false;
    bool hasContent_ = false;
};

bool sameFields(const MatrixEvent::Fields& a, const MatrixEvent::Fields& b) {
    return a.type == b.type && a.roomId == b.roomId && a.sender == b.sender &&
           a.eventId == b.eventId && a.stateKey == b.stateKey &&
           a.originServerTs == b.originServerTs;
}

bool sameOutcome(const ParseOutcome& a, const ParseOutcome& b) {
    if (a.status != b.status || a.error != b.error || a.items.size() != b.items.size())
        return false;
    for (std::size_t i = 0; i < a.items.size(); ++i) {
        const auto& x = a.items[i];
        const auto& y = b.items[i];
        if (x.source != y.source || x.offset != y.offset || x.length != y.length ||
            x.unreadable != y.unreadable || !sameFields(x.fields, y.fields))
            return false;
    }
    return true;
}

// An accepted item's slice of the body is exactly one JSON object, after the previous one.
void checkSlices(const std::string& body, const ParseOutcome& out) {
    std::size_t end = 0;
    for (const auto& item : out.items) {
        MXBRIDGE_FUZZ_CHECK(item.offset >= end && item.length >= 2);
        MXBRIDGE_FUZZ_CHECK(std::size_t{item.offset} + item.length <= body.size());
        std::string_view raw(body.data() + item.offset, item.length);
        MXBRIDGE_FUZZ_CHECK(raw.front() == '{' && raw.back() == '}');
        // What a handler reads later (MatrixEvent::json, numbers past a double quoted) must
        // parse on its own.
        std::optional<std::string> replaced = detail::withLoneSurrogatesReplaced(raw);
        std::string_view text = replaced ? std::string_view(*replaced) : raw;
        std::optional<std::string> quoted = detail::withOutOfRangeNumbersQuoted(text);
        json event = json::parse(quoted ? std::string_view(*quoted) : text, nullptr, false);
        MXBRIDGE_FUZZ_CHECK(event.is_object());
        if (item.fields.eventId.size())
            MXBRIDGE_FUZZ_CHECK(event.value("event_id", "") == item.fields.eventId);
        MXBRIDGE_FUZZ_CHECK(event.value("type", "") == item.fields.type);
        end = std::size_t{item.offset} + item.length;
    }
}

// Where the escape nlohmann refused as a lone surrogate starts, from what it had read of the
// string (`token`, ending at `end`): a low one is the last thing read; after a high one it
// read one character (`"\ud800x`), an escape that is not `\u` (`\n`) or a whole `\uXXXX`.
std::optional<std::size_t> loneSurrogateStart(std::string_view token, std::size_t end, bool high) {
    // Whether the token holds `\u` `back` characters before its end.
    auto escapeAt = [&](std::size_t back) {
        return token.size() >= back && token.substr(token.size() - back, 2) == "\\u";
    };
    std::size_t back = 6;  // a low one
    if (high && escapeAt(12) && escapeAt(6)) {
        back = 12;
    } else if (high) {
        back = token.size() >= 2 && token[token.size() - 2] == '\\' ? 8 : 7;
    }
    if (!escapeAt(back)) return std::nullopt;
    return end - back;
}

// Reads `input` with ReferenceReader. nlohmann stops at a number no double holds and at a
// lone surrogate escape; RFC 8259 allows both, so that token, where nlohmann reports it,
// becomes `0.0` padded to its length (a number, not an int64, as it was), or that escape
// `\ufffd` (what the parser reads, U+FFFD), and the reading starts again.
// Whether `input` holds a \uD800-\uDFFF escape (a surrogate, paired or not).
bool hasSurrogateEscape(std::string_view input) {
    for (std::size_t at = input.find("\\u"); at != std::string_view::npos; at = input.find("\\u", at + 1)) {
        if (at + 3 >= input.size()) break;
        const char first = input[at + 2], second = input[at + 3];
        if ((first == 'd' || first == 'D') &&
            std::string_view("89abcdefABCDEF").find(second) != std::string_view::npos)
            return true;
    }
    return false;
}

ReferenceReader readReference(std::string_view input, bool& isJson) {
    std::string text(input);
    // Each round turns one overflowing token or lone escape into one that is not: at most
    // one per byte.
    for (std::size_t round = 0;; ++round) {
        ReferenceReader ref;
        isJson = text.find('\0') == std::string::npos &&
                 json::sax_parse(text, &ref, json::input_format_t::json, true);
        if (isJson || round > input.size()) return ref;
        auto found = ref.overflow ? ref.overflow : ref.loneSurrogate;
        if (!found) return ref;
        auto [end, token] = *found;
        if (end < token.size() || end > text.size() || text.compare(end - token.size(), token.size(), token) != 0)
            return ref;
        if (ref.overflow) {
            if (token.size() < 3) return ref;
            text.replace(end - token.size(), token.size(), "0.0" + std::string(token.size() - 3, ' '));
        } else {
            std::optional<std::size_t> start = loneSurrogateStart(token, end, ref.loneHigh);
            if (!start) return ref;
            text.replace(*start, 6, "\\ufffd");
        }
    }
}

}  // namespace

void fuzzTransaction(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("transaction", input);
    // The server reuses one parser per thread; so does this, and a fresh one must agree.
    static TransactionParser reused;
    std::string body(input);
    ParseOutcome out = reused.parse(body);
    MXBRIDGE_FUZZ_CHECK(body == input);
    if (out.status == Status::Ok) {
        MXBRIDGE_FUZZ_CHECK(out.error.empty());
    } else {
        MXBRIDGE_FUZZ_CHECK(!out.error.empty());
        MXBRIDGE_FUZZ_CHECK(out.items.empty());
    }
    {
        TransactionParser fresh;
        std::string copy(input);
        MXBRIDGE_FUZZ_CHECK(sameOutcome(fresh.parse(copy), out));
    }

    // nlohmann takes a NUL byte for the end of the input; JSON has none outside strings, and
    // inside them it must be escaped, so a body holding one is not JSON.
    bool isJson = false;
    ReferenceReader ref = readReference(input, isJson);
    if (!isJson) {
        // The reference rewrites lone surrogate escapes in values only; one in an object key
        // (found by libFuzzer: "\udc00" in a key of an ephemeral item) leaves it refusing a
        // body the parser reads, by design, with U+FFFD. Only a body without any such escape
        // must be NotJson here.
        if (hasSurrogateEscape(input) && out.status != Status::NotJson) return;
        MXBRIDGE_FUZZ_CHECK(out.status == Status::NotJson);
        return;
    }
    bool wellShaped = ref.shapeOk && ref.hasEvents;
    // RFC 8259 lets a parser ignore a leading byte order mark (nlohmann does) or refuse it.
    bool bom = input.starts_with("\xEF\xBB\xBF");
    if ((ref.beyondLimits || bom) && out.status == Status::NotJson) return;
    if (!wellShaped) {
        MXBRIDGE_FUZZ_CHECK(out.status == Status::BadJson);
        return;
    }
    MXBRIDGE_FUZZ_CHECK(out.status == Status::Ok);
    MXBRIDGE_FUZZ_CHECK(out.items.size() == ref.items.size());
    for (std::size_t i = 0; i < out.items.size(); ++i) {
        MXBRIDGE_FUZZ_CHECK(out.items[i].source == ref.items[i].source);
        MXBRIDGE_FUZZ_CHECK(out.items[i].unreadable.empty() == !ref.items[i].unreadable);
        MXBRIDGE_FUZZ_CHECK(sameFields(out.items[i].fields, ref.items[i].fields));
    }
    checkSlices(body, out);
}

namespace {

// One scratch file per process: libFuzzer's -jobs and parallel ctest runs must not share it.
class ScratchFile {
public:
    ScratchFile()
        : dir_(std::filesystem::temp_directory_path() /
               ("mxbridge-fuzz-config-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(dir_);
    }
    ~ScratchFile() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    std::string write(std::string_view content) const {
        std::string path = (dir_ / "config.yaml").string();
        std::ofstream(path, std::ios::binary | std::ios::trunc)
            .write(content.data(), static_cast<std::streamsize>(content.size()));
        return path;
    }

private:
    std::filesystem::path dir_;
};

// A clear error names the file first, and no problem in it lacks the file: those would start
// a line with ":" (lines of their own may start otherwise, inside a key that holds newlines).
bool namesFile(const std::string& message, const std::string& file) {
    return message.rfind(file + ":", 0) == 0 && message.find("\n:") == std::string::npos;
}

bool sameRegistration(const Registration& a, const Registration& b) {
    return a.id == b.id && a.url == b.url && a.asToken == b.asToken && a.hsToken == b.hsToken &&
           a.senderLocalpart == b.senderLocalpart && a.users == b.users && a.aliases == b.aliases &&
           a.rooms == b.rooms && a.rateLimited == b.rateLimited && a.protocols == b.protocols &&
           a.receiveEphemeral == b.receiveEphemeral;
}

}  // namespace

void fuzzConfig(const std::uint8_t* data, std::size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    beginInput("config", input);
    static const ScratchFile scratch;
    std::string path = scratch.write(input);
    try {
        (void)loadConfig(path, {});
    } catch (const ConfigError& e) {
        if (!namesFile(e.what(), path)) std::fprintf(stderr, "loadConfig: %s\n", e.what());
        MXBRIDGE_FUZZ_CHECK(namesFile(e.what(), path));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "loadConfig threw %s\n", e.what());
        MXBRIDGE_FUZZ_CHECK(!"loadConfig lets only ConfigError escape");
    }

    std::optional<Registration> registration;
    try {
        registration = parseRegistration(input, "registration.yaml");
    } catch (const ConfigError& e) {
        if (!namesFile(e.what(), "registration.yaml"))
            std::fprintf(stderr, "parseRegistration: %s\n", e.what());
        MXBRIDGE_FUZZ_CHECK(namesFile(e.what(), "registration.yaml"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parseRegistration threw %s\n", e.what());
        MXBRIDGE_FUZZ_CHECK(!"parseRegistration lets only ConfigError escape");
    }
    if (registration) {
        std::string rendered = renderRegistrationYaml(*registration);
        std::optional<Registration> back;
        try {
            back = parseRegistration(rendered, "rendered.yaml");
        } catch (const ConfigError& e) {
            std::fprintf(stderr, "rendered registration refused: %s\n", e.what());
        }
        MXBRIDGE_FUZZ_CHECK(back.has_value());
        MXBRIDGE_FUZZ_CHECK(sameRegistration(*back, *registration));
    }
}

}  // namespace mxbridge::fuzz
