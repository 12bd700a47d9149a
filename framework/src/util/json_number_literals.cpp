#include "util/json_number_literals.h"

#include <charconv>
#include <cstdint>

namespace mxbridge::detail {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isNumberChar(char c) { return isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'; }

// What may stand next to a scalar in JSON: whitespace and the structural characters.
bool isDelimiter(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':' || c == '[' ||
           c == ']' || c == '{' || c == '}';
}

// RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool wellFormedNumber(std::string_view s) {
    size_t i = 0;
    auto digits = [&] {
        size_t start = i;
        while (i < s.size() && isDigit(s[i])) ++i;
        return i > start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (!digits()) {
        return false;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == s.size();
}

bool outOfRange(std::string_view s) {
    const char* end = s.data() + s.size();
    if (s.find_first_of(".eE") == std::string_view::npos) {
        if (s.front() == '-') {
            int64_t v = 0;
            return std::from_chars(s.data(), end, v).ec != std::errc();
        }
        uint64_t v = 0;
        return std::from_chars(s.data(), end, v).ec != std::errc();
    }
    // from_chars, not strtod: the same answer whatever the process's locale.
    double v = 0;
    return std::from_chars(s.data(), end, v).ec != std::errc();
}

// Calls `visit(offset, length)` for each well-formed number literal outside strings that
// stands between delimiters, i.e. each token a JSON parser reads as one number.
template <typename Visit>
void forEachNumberLiteral(std::string_view json, Visit&& visit) {
    bool afterDelimiter = true;  // the start of the text counts as one
    size_t i = 0;
    while (i < json.size()) {
        char c = json[i];
        if (c == '"') {
            // The same rule a JSON reader uses for where a string ends, even in bad input.
            for (++i; i < json.size() && json[i] != '"'; ++i)
                if (json[i] == '\\') ++i;
            ++i;
            afterDelimiter = false;
        } else if (c == '-' || isDigit(c)) {
            size_t start = i;
            while (i < json.size() && isNumberChar(json[i])) ++i;
            std::string_view token = json.substr(start, i - start);
            bool delimited = afterDelimiter && (i == json.size() || isDelimiter(json[i]));
            if (delimited && wellFormedNumber(token)) visit(start, token.size());
            afterDelimiter = false;
        } else {
            afterDelimiter = isDelimiter(c);
            ++i;
        }
    }
}

}  // namespace

std::string withNumbersZeroed(std::string_view json) {
    std::string out(json);
    forEachNumberLiteral(json, [&](size_t offset, size_t length) {
        out.replace(offset, length, length, ' ');
        out[offset] = '0';
    });
    return out;
}

std::optional<std::string> withOutOfRangeNumbersQuoted(std::string_view json) {
    std::optional<std::string> out;
    size_t copied = 0;  // of `json`, into `out`
    forEachNumberLiteral(json, [&](size_t offset, size_t length) {
        std::string_view literal = json.substr(offset, length);
        if (!outOfRange(literal)) return;
        if (!out) out.emplace().reserve(json.size() + 16);
        out->append(json.substr(copied, offset - copied));
        out->append("\"").append(literal).append("\"");
        copied = offset + length;
    });
    if (out) out->append(json.substr(copied));
    return out;
}

}  // namespace mxbridge::detail
