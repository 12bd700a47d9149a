// XEP-0114 §3: the component proves it knows the shared secret by sending the lowercase hex
// SHA-1 of the stream id the server gave followed by the secret.
#pragma once

#include <string>
#include <string_view>

namespace mxbridge::xmpp {

std::string componentHandshake(std::string_view streamId, std::string_view secret);

}  // namespace mxbridge::xmpp
