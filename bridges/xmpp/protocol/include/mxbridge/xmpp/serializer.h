// Writing XML for an XMPP stream. Text and attribute values cannot break out of their place:
// the markup characters become references, and characters XML 1.0 does not allow (controls,
// U+FFFE, U+FFFF, bytes that are not UTF-8) become U+FFFD, so whatever a Matrix user typed
// is sent as text and the server never sees a stream it must close as not-well-formed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/xmpp/element.h"

namespace mxbridge::xmpp {

// Character data: & < > escaped (> too, for "]]>"); \r as &#13; so it survives reading.
std::string escapeText(std::string_view text);
// An attribute value for '…' or "…" quoting: & < > ' " escaped, and tab, newline and \r as
// character references, which attribute-value normalisation would otherwise turn to spaces.
std::string escapeAttribute(std::string_view value);
// `text` with every character XML 1.0 does not allow, and every invalid UTF-8 sequence,
// replaced by U+FFFD; unchanged when it was clean already.
std::string toXmlChars(std::string_view text);

// An XML name without a colon (NCName), as element and attribute local names must be.
bool isValidXmlName(std::string_view name);

// The element as XML. xmlns='…' is written where its namespace differs from the one it sits
// in (`enclosingNs`: the stream's content namespace for a stanza), namespaced attributes get
// a declared prefix (xml:lang uses xml:). Throws std::invalid_argument for an element or
// attribute name that is not an NCName: names come from code, never from users.
std::string serialize(const Element& element, std::string_view enclosingNs = {});

// The stream's opening tag, left open: <stream:stream xmlns='contentNs'
// xmlns:stream='http://etherx.jabber.org/streams' attrs…>, preceded by the XML declaration.
std::string openStreamTag(std::string_view contentNs, const std::vector<Attribute>& attributes);
inline constexpr std::string_view kCloseStreamTag = "</stream:stream>";

}  // namespace mxbridge::xmpp
