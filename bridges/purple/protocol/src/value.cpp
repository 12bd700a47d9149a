#include "mxbridge/purple/value.h"

#include <algorithm>

namespace mxbridge::purple::wire {

namespace {

[[noreturn]] void missing(std::string_view key) {
    throw FieldError("field '" + std::string(key) + "' is missing");
}

[[noreturn]] void wrongType(std::string_view key, const char* expected) {
    throw FieldError("field '" + std::string(key) + "' is not " + expected);
}

template <typename T>
const T& typed(const Record& record, std::string_view key, const char* expected) {
    const Value* value = record.find(key);
    if (!value) missing(key);
    const T* result = std::get_if<T>(&value->data);
    if (!result) wrongType(key, expected);
    return *result;
}

template <typename T>
T typedOr(const Record& record, std::string_view key, T fallback, const char* expected) {
    if (!record.has(key)) return fallback;
    return typed<T>(record, key, expected);
}

}  // namespace

Record::Record() = default;
Record::Record(const Record&) = default;
Record::Record(Record&&) noexcept = default;
Record& Record::operator=(const Record&) = default;
Record& Record::operator=(Record&&) noexcept = default;
Record::~Record() = default;

Record& Record::set(std::string key, Value value) {
    auto it = std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return f.key == key; });
    if (it != fields_.end())
        it->value = std::move(value);
    else
        fields_.push_back(Field{.key = std::move(key), .value = std::move(value)});
    return *this;
}

const Value* Record::find(std::string_view key) const {
    for (const auto& field : fields_)
        if (field.key == key) return &field.value;
    return nullptr;
}

const std::string& Record::string(std::string_view key) const { return typed<std::string>(*this, key, "a string"); }
std::int64_t Record::integer(std::string_view key) const { return typed<std::int64_t>(*this, key, "an integer"); }
bool Record::boolean(std::string_view key) const { return typed<bool>(*this, key, "a boolean"); }
const List& Record::list(std::string_view key) const { return typed<List>(*this, key, "a list"); }
const Record& Record::record(std::string_view key) const { return typed<Record>(*this, key, "a record"); }

std::string Record::stringOr(std::string_view key, std::string_view fallback) const {
    return typedOr<std::string>(*this, key, std::string(fallback), "a string");
}
std::int64_t Record::integerOr(std::string_view key, std::int64_t fallback) const {
    return typedOr<std::int64_t>(*this, key, fallback, "an integer");
}
bool Record::booleanOr(std::string_view key, bool fallback) const {
    return typedOr<bool>(*this, key, fallback, "a boolean");
}

bool Record::operator==(const Record& other) const { return fields_ == other.fields_; }

bool isValidName(std::string_view name) {
    if (name.empty() || name.size() > 32) return false;
    if (name[0] < 'a' || name[0] > 'z') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

}  // namespace mxbridge::purple::wire
