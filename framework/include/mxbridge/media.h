// Links to Matrix media that people on other networks can open. Homeservers serve media to
// authenticated clients only (spec v1.11; Synapse freezes unauthenticated media), so a
// /_matrix/ download URL given to an IRC user fails. The bridge serves signed links instead,
// /_mxbridge/media/<token>, fetching the file from the homeserver with its own token; a
// bridge asks for the link here and never builds a /_matrix/ path itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge {

class MediaLinks {
public:
    virtual ~MediaLinks() = default;
    // A link anyone holding it may open, e.g.
    //   https://bridge.example.org/_mxbridge/media/1767225600.bXhjOi8v....sig/cat.png
    // `fileName` only makes the link readable (it is not signed; the file's name comes from
    // the homeserver). nullopt when the operator has not enabled media links
    // (media.signing_key unset) or `mxc` is not a valid mxc:// URI: show the mxc URI as sent,
    // or say the file cannot be linked.
    virtual std::optional<std::string> publicUrl(std::string_view mxc,
                                                 std::string_view fileName = {}) const = 0;
};

}  // namespace mxbridge
