#include "mxbridge/purple/frame.h"

namespace mxbridge::purple::wire {

namespace {

constexpr std::string_view kMagic = "MXP";
constexpr std::size_t kHeaderBytes = 3 + 1 + 1 + 4;  // magic, version, kind, id

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v >> 8));
        u8(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
    }
    void u64(std::uint64_t v) {
        for (int shift = 56; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
    }
    void bytes(std::string_view s) {
        out_.append(s);
        // Checked as it grows, so a huge message fails before it is all copied.
        if (out_.size() > Limits::kMaxFrameBytes)
            throw EncodeError("message is larger than " + std::to_string(Limits::kMaxFrameBytes) + " bytes");
    }
    void name(std::string_view n, const char* what) {
        if (!isValidName(n)) throw EncodeError(std::string(what) + " '" + std::string(n) + "' is not a wire name");
        u8(static_cast<std::uint8_t>(n.size()));
        bytes(n);
    }
    void count(std::size_t n) {
        if (n > Limits::kMaxItems) throw EncodeError("a list or record has more than " +
                                                     std::to_string(Limits::kMaxItems) + " entries");
        u16(static_cast<std::uint16_t>(n));
    }
    void record(const Record& r, std::size_t depth) {
        count(r.fields().size());
        for (const auto& field : r.fields()) {
            name(field.key, "key");
            value(field.value, depth);
        }
    }
    void value(const Value& v, std::size_t depth) {
        if (const bool* b = v.asBoolean()) {
            u8(*b ? 'T' : 'F');
        } else if (const std::int64_t* i = v.asInteger()) {
            u8('I');
            u64(static_cast<std::uint64_t>(*i));
        } else if (const std::string* s = v.asString()) {
            if (s->size() > Limits::kMaxFrameBytes) throw EncodeError("a string is larger than a frame");
            u8('S');
            u32(static_cast<std::uint32_t>(s->size()));
            bytes(*s);
        } else {
            if (depth + 1 > Limits::kMaxDepth) throw EncodeError("values nest deeper than the wire allows");
            if (const List* l = v.asList()) {
                u8('L');
                count(l->size());
                for (const auto& item : *l) value(item, depth + 1);
            } else {
                u8('R');
                record(*v.asRecord(), depth + 1);
            }
        }
        if (out_.size() > Limits::kMaxFrameBytes)
            throw EncodeError("message is larger than " + std::to_string(Limits::kMaxFrameBytes) + " bytes");
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

// Thrown inside the reader only; decode() turns it into a DecodeError.
struct Failure {
    DecodeError error;
};

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    [[noreturn]] void fail(DecodeError::Code code, std::string detail) const {
        throw Failure{DecodeError{.code = code, .offset = pos_, .detail = std::move(detail)}};
    }
    void need(std::size_t n, const char* what) const {
        if (in_.size() - pos_ < n) fail(DecodeError::Code::Truncated, std::string(what) + " runs past the end");
    }
    std::uint8_t u8(const char* what) {
        need(1, what);
        return static_cast<std::uint8_t>(in_[pos_++]);
    }
    std::uint16_t u16(const char* what) {
        need(2, what);
        std::uint16_t v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(in_[pos_]) << 8) |
                                                     static_cast<std::uint8_t>(in_[pos_ + 1]));
        pos_ += 2;
        return v;
    }
    std::uint64_t uN(std::size_t n, const char* what) {
        need(n, what);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[pos_ + i]);
        pos_ += n;
        return v;
    }
    std::string_view bytes(std::size_t n, const char* what) {
        need(n, what);
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    std::string name(const char* what) {
        std::size_t at = pos_;
        std::uint8_t len = u8(what);
        std::string_view n = bytes(len, what);
        if (!isValidName(n)) {
            pos_ = at;
            fail(DecodeError::Code::BadName, std::string(what) + " is not a name of [a-z0-9_], at most 32");
        }
        return std::string(n);
    }
    std::size_t count() {
        std::uint16_t n = u16("an entry count");
        if (n > Limits::kMaxItems) {
            pos_ -= 2;
            fail(DecodeError::Code::TooLarge, "more than " + std::to_string(Limits::kMaxItems) + " entries");
        }
        return n;
    }
    Record record(std::size_t depth) {
        Record r;
        std::size_t n = count();
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t at = pos_;
            std::string key = name("a key");
            if (r.has(key)) {
                pos_ = at;
                fail(DecodeError::Code::DuplicateKey, "key '" + key + "' appears twice");
            }
            Value v = value(depth);
            r.fields().push_back(Field{.key = std::move(key), .value = std::move(v)});
        }
        return r;
    }
    Value value(std::size_t depth) {
        std::uint8_t tag = u8("a value");
        switch (tag) {
            case 'F': return Value(false);
            case 'T': return Value(true);
            case 'I': return Value(static_cast<std::int64_t>(uN(8, "an integer")));
            case 'S': {
                std::size_t len = static_cast<std::size_t>(uN(4, "a string length"));
                return Value(bytes(len, "a string"));
            }
            case 'L':
            case 'R': {
                if (depth + 1 > Limits::kMaxDepth) {
                    --pos_;
                    fail(DecodeError::Code::TooDeep, "values nest deeper than " + std::to_string(Limits::kMaxDepth));
                }
                if (tag == 'R') return Value(record(depth + 1));
                List list;
                std::size_t n = count();
                for (std::size_t i = 0; i < n; ++i) list.push_back(value(depth + 1));
                return Value(std::move(list));
            }
            default:
                --pos_;
                fail(DecodeError::Code::BadTag, "unknown value tag " + std::to_string(tag));
        }
    }
    std::size_t pos() const { return pos_; }
    bool atEnd() const { return pos_ == in_.size(); }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string encode(const Message& message) {
    Writer w;
    w.bytes(kMagic);
    w.u8(kVersion);
    w.u8(static_cast<std::uint8_t>(message.kind));
    w.u32(message.id);
    w.name(message.type, "message type");
    w.record(message.body, 0);
    return w.take();
}

DecodeResult decode(std::string_view frame) {
    if (frame.size() > Limits::kMaxFrameBytes)
        return DecodeError{.code = DecodeError::Code::TooLarge, .offset = 0,
                           .detail = std::to_string(frame.size()) + " bytes, the limit is " +
                                     std::to_string(Limits::kMaxFrameBytes)};
    if (frame.size() < kHeaderBytes)
        return DecodeError{.code = DecodeError::Code::TooShort, .offset = 0,
                           .detail = std::to_string(frame.size()) + " bytes"};
    if (frame.substr(0, 3) != kMagic)
        return DecodeError{.code = DecodeError::Code::BadMagic, .offset = 0, .detail = "does not start with MXP"};
    auto version = static_cast<std::uint8_t>(frame[3]);
    if (version != kVersion)
        return DecodeError{.code = DecodeError::Code::UnsupportedVersion, .offset = 3,
                           .detail = "version " + std::to_string(version) + ", this side speaks " +
                                     std::to_string(kVersion)};
    auto kind = static_cast<std::uint8_t>(frame[4]);
    if (kind < 1 || kind > 4)
        return DecodeError{.code = DecodeError::Code::BadKind, .offset = 4,
                           .detail = "kind " + std::to_string(kind)};
    Reader r(frame);
    try {
        r.bytes(5, "the header");
        Message message;
        message.kind = static_cast<Kind>(kind);
        message.id = static_cast<std::uint32_t>(r.uN(4, "the id"));
        message.type = r.name("the message type");
        message.body = r.record(0);
        if (!r.atEnd()) r.fail(DecodeError::Code::TrailingBytes, "bytes after the body");
        return message;
    } catch (const Failure& failure) {
        return failure.error;
    }
}

std::string DecodeError::describe() const {
    const char* what = "bad frame";
    switch (code) {
        case Code::TooShort: what = "frame too short"; break;
        case Code::BadMagic: what = "not an mxbridge-purple frame"; break;
        case Code::UnsupportedVersion: what = "unsupported wire version"; break;
        case Code::BadKind: what = "unknown message kind"; break;
        case Code::BadName: what = "bad name"; break;
        case Code::Truncated: what = "truncated frame"; break;
        case Code::BadTag: what = "bad value tag"; break;
        case Code::TooDeep: what = "values nested too deep"; break;
        case Code::TooLarge: what = "too large"; break;
        case Code::DuplicateKey: what = "duplicate key"; break;
        case Code::TrailingBytes: what = "trailing bytes"; break;
    }
    return std::string(what) + " at byte " + std::to_string(offset) + ": " + detail;
}

std::string_view kindName(Kind kind) {
    switch (kind) {
        case Kind::Request: return "request";
        case Kind::Reply: return "reply";
        case Kind::Error: return "error";
        case Kind::Event: return "event";
    }
    return "unknown";
}

}  // namespace mxbridge::purple::wire
