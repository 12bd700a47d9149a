// A message's text between the two sides: an XMPP body with message styling (XEP-0393) on one,
// Matrix's plain body and formatted_body (HTML) on the other.
#pragma once

#include <optional>
#include <string>

#include "mxbridge/ids.h"
#include "mxbridge/xmpp/element.h"

namespace mxbridge::xmpp {

// The id a Matrix event goes out to XMPP with: "m<event id without '$'>", known without a
// lookup, so a correction, retraction or reply can name it before any mapping is committed.
inline std::string outgoingId(const EventId& event) { return "m" + event.str().substr(1); }

// The body a retraction carries for clients without retractions (XEP-0424 with XEP-0428).
inline constexpr std::string_view kRetractFallback =
    "/me retracted a previous message, but it's unsupported by your client.";

struct XmppBody {
    std::string text;
    // Mark the message <unstyled/> (XEP-0393 §6): a Matrix body without HTML was meant as
    // plain text, and XMPP clients would otherwise style its stray '*' or '>'.
    bool unstyled = false;
};

// What a Matrix message (body, and formatted_body when it has one) says to XMPP clients.
XmppBody xmppBodyFor(const std::string& body, const std::optional<std::string>& html);

// The formatted_body for an XMPP message's `body`: its styling as HTML, none when it has no
// styling or the sender marked it <unstyled/>.
std::optional<std::string> matrixHtmlFor(const Element& message, const std::string& body);

// `body` without the quote a reply (XEP-0461) carries for clients without replies: Matrix
// shows the reply its own way. The whole body when nothing else would be left.
std::string textWithoutReplyFallback(const Element& message, const std::string& body);

// Adds <unstyled xmlns='urn:xmpp:styling:0'/> to `message` when `body` asks for it.
void markUnstyled(Element& message, const XmppBody& body);

}  // namespace mxbridge::xmpp
