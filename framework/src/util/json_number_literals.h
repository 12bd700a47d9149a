// Number literals in JSON text that RFC 8259 allows but fixed-size parsers cannot hold:
// integers past int64/uint64 (`18446744073709551616`, a 200-digit one) and numbers past a
// double's range (`1e400`). simdjson refuses them ("Problem while parsing a number"),
// nlohmann::json reads big integers as inexact doubles and refuses 1e400, so the framework
// rewrites them before handing the text to either. Issue 9, item 1.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::detail {

// `json` with every well-formed number literal replaced by `0` padded with spaces to its
// length. simdjson's validator accepts the result exactly when `json` is valid JSON whatever
// the size of its numbers: malformed numbers (`01`, `1.`, `-`) are left for it to refuse.
std::string withNumbersZeroed(std::string_view json);

// `json` with each number no int64, uint64 or double holds written as a JSON string of its
// exact literal text (`{"n":1e400}` -> `{"n":"1e400"}`); nullopt when there is none, the
// common case, so nothing is copied.
std::optional<std::string> withOutOfRangeNumbersQuoted(std::string_view json);

}  // namespace mxbridge::detail
