// Namespace URIs the XMPP bridge speaks, in one place so a typo cannot hide in a literal.
#pragma once

#include <string_view>

namespace mxbridge::xmpp::ns {

inline constexpr std::string_view kStreams = "http://etherx.jabber.org/streams";
inline constexpr std::string_view kStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view kStanzaErrors = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view kClient = "jabber:client";
inline constexpr std::string_view kServer = "jabber:server";
inline constexpr std::string_view kComponentAccept = "jabber:component:accept";  // XEP-0114
inline constexpr std::string_view kXml = "http://www.w3.org/XML/1998/namespace";
inline constexpr std::string_view kPing = "urn:xmpp:ping";                                  // XEP-0199
inline constexpr std::string_view kDiscoInfo = "http://jabber.org/protocol/disco#info";    // XEP-0030
inline constexpr std::string_view kDiscoItems = "http://jabber.org/protocol/disco#items";  // XEP-0030

}  // namespace mxbridge::xmpp::ns
