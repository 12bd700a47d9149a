// Reading whole streams in tests: the stanzas a string yields and the error it ends with.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/xmpp/stream_parser.h"

namespace mxbridge::xmpp::test {

inline constexpr std::string_view kClientHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "from='example.net' id='s1' version='1.0'>";

struct ParseResult {
    std::vector<Element> stanzas;
    std::optional<StreamError> error;
    bool opened = false;
    bool closed = false;
};

// Feeds `input` in pieces of `chunk` bytes (0: all at once) to a parser with `limits`.
inline ParseResult parseAll(std::string_view input, std::size_t chunk = 0, StreamParserLimits limits = {}) {
    StreamParser parser(limits);
    ParseResult result;
    if (chunk == 0) chunk = input.size() + 1;
    for (std::size_t i = 0; i < input.size(); i += chunk) parser.feed(input.substr(i, chunk));
    while (auto event = parser.next()) {
        if (event->kind == StreamEvent::Kind::Stanza) result.stanzas.push_back(std::move(event->stanza));
        if (event->kind == StreamEvent::Kind::Opened) result.opened = true;
        if (event->kind == StreamEvent::Kind::Closed) result.closed = true;
    }
    result.error = parser.error();
    return result;
}

inline std::optional<StreamErrorCondition> conditionOf(const ParseResult& r) {
    if (!r.error) return std::nullopt;
    return r.error->condition;
}

}  // namespace mxbridge::xmpp::test
