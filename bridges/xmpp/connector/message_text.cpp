#include "message_text.h"

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

void markUnstyled(Element& message, const XmppBody& body) {
    if (body.unstyled) message.addChild("unstyled", std::string(kStyling));
}

}  // namespace mxbridge::xmpp
