#include "mxbridge/xmpp/stream_error.h"

#include <array>
#include <utility>

#include "mxbridge/xmpp/namespaces.h"

namespace mxbridge::xmpp {

namespace {

using C = StreamErrorCondition;

constexpr std::array<std::pair<C, std::string_view>, 25> kNames = {{
    {C::BadFormat, "bad-format"},
    {C::BadNamespacePrefix, "bad-namespace-prefix"},
    {C::Conflict, "conflict"},
    {C::ConnectionTimeout, "connection-timeout"},
    {C::HostGone, "host-gone"},
    {C::HostUnknown, "host-unknown"},
    {C::ImproperAddressing, "improper-addressing"},
    {C::InternalServerError, "internal-server-error"},
    {C::InvalidFrom, "invalid-from"},
    {C::InvalidNamespace, "invalid-namespace"},
    {C::InvalidXml, "invalid-xml"},
    {C::NotAuthorized, "not-authorized"},
    {C::NotWellFormed, "not-well-formed"},
    {C::PolicyViolation, "policy-violation"},
    {C::RemoteConnectionFailed, "remote-connection-failed"},
    {C::Reset, "reset"},
    {C::ResourceConstraint, "resource-constraint"},
    {C::RestrictedXml, "restricted-xml"},
    {C::SeeOtherHost, "see-other-host"},
    {C::SystemShutdown, "system-shutdown"},
    {C::UndefinedCondition, "undefined-condition"},
    {C::UnsupportedEncoding, "unsupported-encoding"},
    {C::UnsupportedFeature, "unsupported-feature"},
    {C::UnsupportedStanzaType, "unsupported-stanza-type"},
    {C::UnsupportedVersion, "unsupported-version"},
}};

}  // namespace

std::string_view conditionName(StreamErrorCondition condition) {
    for (const auto& [c, name] : kNames)
        if (c == condition) return name;
    return "undefined-condition";
}

std::optional<StreamErrorCondition> conditionFromName(std::string_view name) {
    for (const auto& [c, n] : kNames)
        if (n == name) return c;
    return std::nullopt;
}

std::string describe(const StreamError& error) {
    std::string out(conditionName(error.condition));
    if (!error.text.empty()) out += ": " + error.text;
    return out;
}

StreamError parseStreamError(const Element& error) {
    StreamError out;
    for (const Element* child : error.elements()) {
        if (child->xmlns() != ns::kStreamErrors) continue;
        if (child->name() == "text") {
            out.text = child->text();
        } else if (auto c = conditionFromName(child->name())) {
            out.condition = *c;
        }
    }
    return out;
}

Element makeStreamError(const StreamError& error) {
    Element out("error", std::string(ns::kStreams));
    out.addChild(std::string(conditionName(error.condition)), std::string(ns::kStreamErrors));
    if (!error.text.empty())
        out.addChild("text", std::string(ns::kStreamErrors)).addText(error.text);
    return out;
}

}  // namespace mxbridge::xmpp
