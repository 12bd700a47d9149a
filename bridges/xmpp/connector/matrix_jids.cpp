#include "matrix_jids.h"

#include "mxbridge/ids.h"
#include "mxbridge/xmpp/jid.h"

namespace mxbridge::xmpp {

std::optional<std::string> jidLocalForMatrixUser(std::string_view userId) {
    if (!isValidUserId(userId)) return std::nullopt;
    return escapeLocalpart(userId.substr(1));
}

std::optional<std::string> matrixUserForJidLocal(std::string_view local) {
    if (local.empty()) return std::nullopt;
    std::string userId = "@" + unescapeLocalpart(local);
    if (!isValidUserId(userId)) return std::nullopt;
    return userId;
}

}  // namespace mxbridge::xmpp
