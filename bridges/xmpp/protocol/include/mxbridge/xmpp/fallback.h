// Compatibility fallbacks (XEP-0428): the parts of a body that only stand in for an extension
// (a quoted reply, a retraction notice) for clients without it. A bridge that carries the
// extension itself drops them.
#pragma once

#include <string>
#include <string_view>

#include "mxbridge/xmpp/element.h"

namespace mxbridge::xmpp {

// `body` without what `message` marks as a fallback for the extension `forNamespace`:
// each <body start='…' end='…'/> range (in Unicode code points, XEP-0426), or the whole body
// when the fallback names no range. Ranges out of bounds, reversed or unreadable are ignored,
// so a hostile range never removes what it does not name.
std::string withoutFallback(const Element& message, std::string_view forNamespace, std::string_view body);

}  // namespace mxbridge::xmpp
