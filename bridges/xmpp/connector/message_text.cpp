#include "message_text.h"

#include "mxbridge/xmpp/fallback.h"
#include "mxbridge/xmpp/styling.h"

namespace mxbridge::xmpp {

namespace {
constexpr std::string_view kStyling = "urn:xmpp:styling:0";  // XEP-0393
}

XmppBody xmppBodyFor(const std::string& body, const std::optional<std::string>& html) {
    if (html) return XmppBody{.text = htmlToStyling(*html), .unstyled = false};
    return XmppBody{.text = body, .unstyled = stylingToHtml(body).has_value()};
}

std::optional<std::string> matrixHtmlFor(const Element& message, const std::string& body) {
    if (message.child("unstyled", kStyling)) return std::nullopt;
    return stylingToHtml(body);
}

std::string textWithoutReplyFallback(const Element& message, const std::string& body) {
    if (!message.child("reply", "urn:xmpp:reply:0")) return body;
    std::string text = withoutFallback(message, "urn:xmpp:reply:0", body);
    return text.find_first_not_of(" \n") == std::string::npos ? body : text;
}

void markUnstyled(Element& message, const XmppBody& body) {
    if (body.unstyled) message.addChild("unstyled", std::string(kStyling));
}

}  // namespace mxbridge::xmpp
