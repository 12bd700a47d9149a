// Matrix users as JIDs at the component and back. The localpart is the user id without its
// '@', XEP-0106-escaped: @bob:example.org is bob\3aexample.org@<component>, which XMPP clients
// that know XEP-0106 show as bob:example.org@<component>. One to one for user ids in lower
// case (all new ones); JIDs fold ASCII case, so historical ids with capitals are not reached.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::xmpp {

// The JID localpart of a Matrix user; nullopt for a string that is no user id or whose
// escaped form is no valid localpart.
std::optional<std::string> jidLocalForMatrixUser(std::string_view userId);
// The Matrix user id a JID localpart at the component names; nullopt when it names none.
std::optional<std::string> matrixUserForJidLocal(std::string_view local);

}  // namespace mxbridge::xmpp
