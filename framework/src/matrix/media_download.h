// Downloading an mxc:// URI from the homeserver, one way for every caller (the outbox's
// downloads for bridges, the /_mxbridge/media links): the authenticated endpoint of spec
// v1.11 first, the old unauthenticated one on homeservers that do not know it.
#pragma once

#include <functional>
#include <string>

#include "matrix/hs_client.h"

namespace mxbridge::detail {

// `get` performs one GET of the path it is given. An mxc URI that is not "mxc://server/id"
// gets a 400 M_INVALID_PARAM answer without any request.
HsResponse downloadMedia(const std::string& mxc, bool authenticatedMedia,
                         const std::function<HsResponse(const std::string& path)>& get);

}  // namespace mxbridge::detail
