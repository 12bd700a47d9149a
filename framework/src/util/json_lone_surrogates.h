// Lone surrogate escapes in JSON strings (`"\ud800"`, `"\udc00"`, a high one followed by no
// low one): RFC 8259's grammar allows them and Synapse (Python) accepts and re-emits them,
// but they name no character, so simdjson ("Problem while parsing a string") and
// nlohmann::json both refuse the whole text. Issue 9, item 1.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::detail {

// `json` with each lone surrogate escape replaced by `\ufffd`, U+FFFD REPLACEMENT CHARACTER,
// as Unicode's decoders do for an unpaired surrogate; nullopt when there is none, the common
// case, so nothing is copied. The result has the same length, so offsets into `json` hold
// for it. Escapes that are not 4 hex digits (`\uZZZZ`) are left for a parser to refuse.
std::optional<std::string> withLoneSurrogatesReplaced(std::string_view json);

}  // namespace mxbridge::detail
