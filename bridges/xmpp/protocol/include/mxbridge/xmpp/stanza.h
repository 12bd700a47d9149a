// Replies to stanzas and stanza errors (RFC 6120 §8.3): what an IQ result or an error bounce
// looks like, and reading the <error/> of one received.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mxbridge/xmpp/element.h"

namespace mxbridge::xmpp {

struct StanzaError {
    std::string type = "cancel";                    // cancel, continue, modify, auth, wait
    std::string condition = "undefined-condition";  // service-unavailable, item-not-found, …
    std::string text;                               // may be empty
};

// "item-not-found (cancel): text", for logs and for the Matrix sender's notice.
std::string describe(const StanzaError& error);

// The <error/> of a stanza of type 'error'; nullopt for any other stanza. A missing or
// unknown condition reads as undefined-condition.
std::optional<StanzaError> parseStanzaError(const Element& stanza);

// A reply to `request`: same name, namespace and id, 'from' and 'to' swapped, of `type`
// ("result" for an IQ), with no children.
Element makeReply(const Element& request, std::string_view type);
// An error bounce for `request` (RFC 6120 §8.3.1: the same name, id, swapped addresses).
Element makeErrorReply(const Element& request, const StanzaError& error);

}  // namespace mxbridge::xmpp
