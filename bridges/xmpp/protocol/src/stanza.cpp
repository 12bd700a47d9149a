#include "mxbridge/xmpp/stanza.h"

#include "mxbridge/xmpp/namespaces.h"

namespace mxbridge::xmpp {

std::string describe(const StanzaError& error) {
    std::string out = error.condition + " (" + error.type + ")";
    if (!error.text.empty()) out += ": " + error.text;
    return out;
}

std::optional<StanzaError> parseStanzaError(const Element& stanza) {
    if (stanza.attr("type") != "error") return std::nullopt;
    StanzaError out;
    const Element* error = stanza.child("error", stanza.xmlns());
    if (error == nullptr) return out;
    out.type = std::string(error->attrOr("type", "cancel"));
    for (const Element* child : error->elements()) {
        if (child->xmlns() != ns::kStanzaErrors) continue;
        if (child->name() == "text") {
            out.text = child->text();
        } else {
            out.condition = child->name();
        }
    }
    return out;
}

Element makeReply(const Element& request, std::string_view type) {
    Element reply(request.name(), request.xmlns());
    if (auto from = request.attr("from")) reply.setAttr("to", std::string(*from));
    if (auto to = request.attr("to")) reply.setAttr("from", std::string(*to));
    if (auto id = request.attr("id")) reply.setAttr("id", std::string(*id));
    reply.setAttr("type", std::string(type));
    return reply;
}

Element makeErrorReply(const Element& request, const StanzaError& error) {
    Element reply = makeReply(request, "error");
    Element& e = reply.addChild("error", request.xmlns());
    e.setAttr("type", error.type);
    e.addChild(error.condition, std::string(ns::kStanzaErrors));
    if (!error.text.empty()) e.addChild("text", std::string(ns::kStanzaErrors)).addText(error.text);
    return reply;
}

}  // namespace mxbridge::xmpp
