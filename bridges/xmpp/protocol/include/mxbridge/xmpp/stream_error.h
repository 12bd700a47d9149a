// XMPP stream errors (RFC 6120 §4.9): what our parser reports about bad input, and what a
// server's <stream:error/> says before it closes the stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mxbridge/xmpp/element.h"

namespace mxbridge::xmpp {

// The defined conditions of RFC 6120 §4.9.3, in its order.
enum class StreamErrorCondition {
    BadFormat,
    BadNamespacePrefix,
    Conflict,
    ConnectionTimeout,
    HostGone,
    HostUnknown,
    ImproperAddressing,
    InternalServerError,
    InvalidFrom,
    InvalidNamespace,
    InvalidXml,
    NotAuthorized,
    NotWellFormed,
    PolicyViolation,
    RemoteConnectionFailed,
    Reset,
    ResourceConstraint,
    RestrictedXml,
    SeeOtherHost,
    SystemShutdown,
    UndefinedCondition,
    UnsupportedEncoding,
    UnsupportedFeature,
    UnsupportedStanzaType,
    UnsupportedVersion,
};

// The element name on the wire: "not-well-formed".
std::string_view conditionName(StreamErrorCondition condition);
// The condition named so; nullopt for a name RFC 6120 does not define.
std::optional<StreamErrorCondition> conditionFromName(std::string_view name);

struct StreamError {
    StreamErrorCondition condition = StreamErrorCondition::UndefinedCondition;
    std::string text;  // a human-readable explanation, may be empty
};

// "not-well-formed: text" (or the bare name without text), for logs and exceptions.
std::string describe(const StreamError& error);

// Reads a received <stream:error/>: its first child in the streams-error namespace (an
// unknown one reads as undefined-condition) and its <text/>.
StreamError parseStreamError(const Element& error);
// Builds the <stream:error/> element that reports `error` to the peer.
Element makeStreamError(const StreamError& error);

}  // namespace mxbridge::xmpp
