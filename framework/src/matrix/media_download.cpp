#include "matrix/media_download.h"

namespace mxbridge::detail {

HsResponse downloadMedia(const std::string& mxc, bool authenticatedMedia,
                         const std::function<HsResponse(const std::string& path)>& get) {
    if (mxc.rfind("mxc://", 0) != 0 || mxc.find('/', 6) == std::string::npos) {
        HsResponse refused;
        refused.status = 400;
        refused.body = nlohmann::json{{"errcode", "M_INVALID_PARAM"}, {"error", "not an mxc:// URI: " + mxc}};
        return refused;
    }
    const std::string rest = mxc.substr(6);
    const size_t slash = rest.find('/');
    const std::string tail = urlEncode(rest.substr(0, slash)) + "/" + urlEncode(rest.substr(slash + 1));
    HsResponse r;
    bool tried = false;
    if (authenticatedMedia) {
        r = get("/_matrix/client/v1/media/download/" + tail);
        tried = true;
    }
    // Homeservers before spec v1.11 know only the unauthenticated endpoint.
    if (!tried || (!r.ok() && (r.status == 404 || r.status == 405) && r.errcode() == "M_UNRECOGNIZED"))
        r = get("/_matrix/media/v3/download/" + tail);
    return r;
}

}  // namespace mxbridge::detail
