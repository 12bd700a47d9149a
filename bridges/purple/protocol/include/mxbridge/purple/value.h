// The values a wire message carries: booleans, 64-bit integers, byte strings, lists and
// records (named fields in a fixed order). Small on purpose: the host and the bridge agree on
// messages by field names, so either side can add a field without breaking the other.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mxbridge::purple::wire {

struct Value;
struct Field;

// A message field that is missing or has the wrong type: says which and what was expected.
class FieldError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Named values in the order they were added. Keys are unique (the decoder refuses
// duplicates; set() replaces), so a record reads the same whatever order its fields came in
// only when compared as sent: two records are equal when their fields are, in order.
class Record {
public:
    // Copies, moves and destruction are defined in value.cpp, where Field is complete: a
    // record holds values that hold records.
    Record();
    Record(const Record&);
    Record(Record&&) noexcept;
    Record& operator=(const Record&);
    Record& operator=(Record&&) noexcept;
    ~Record();

    Record& set(std::string key, Value value);
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed reads; a missing field or a wrong type throws FieldError naming the key.
    const std::string& string(std::string_view key) const;
    std::int64_t integer(std::string_view key) const;
    bool boolean(std::string_view key) const;
    const std::vector<Value>& list(std::string_view key) const;
    const Record& record(std::string_view key) const;
    // The same, with a fallback when the field is absent (a wrong type still throws).
    std::string stringOr(std::string_view key, std::string_view fallback) const;
    std::int64_t integerOr(std::string_view key, std::int64_t fallback) const;
    bool booleanOr(std::string_view key, bool fallback) const;

    const std::vector<Field>& fields() const { return fields_; }
    std::vector<Field>& fields() { return fields_; }
    bool operator==(const Record& other) const;

private:
    std::vector<Field> fields_;
};

using List = std::vector<Value>;

struct Value {
    std::variant<bool, std::int64_t, std::string, List, Record> data;

    Value() : data(false) {}
    Value(bool b) : data(b) {}
    Value(std::int64_t i) : data(i) {}
    Value(int i) : data(std::int64_t{i}) {}
    Value(std::string s) : data(std::move(s)) {}
    Value(std::string_view s) : data(std::string(s)) {}
    Value(const char* s) : data(std::string(s)) {}
    Value(List l) : data(std::move(l)) {}
    Value(Record r) : data(std::move(r)) {}

    const std::string* asString() const { return std::get_if<std::string>(&data); }
    const std::int64_t* asInteger() const { return std::get_if<std::int64_t>(&data); }
    const bool* asBoolean() const { return std::get_if<bool>(&data); }
    const List* asList() const { return std::get_if<List>(&data); }
    const Record* asRecord() const { return std::get_if<Record>(&data); }
    bool operator==(const Value& other) const { return data == other.data; }
};

struct Field {
    std::string key;
    Value value;
    bool operator==(const Field& other) const = default;
};

// A key or a message type: 1 to 32 of [a-z0-9_], starting with a letter. Plain names keep
// logs readable and keep the decoder from carrying arbitrary bytes as names.
bool isValidName(std::string_view name);

}  // namespace mxbridge::purple::wire
