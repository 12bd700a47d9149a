#include "mxbridge/ids.h"

namespace mxbridge {

std::string_view localpartOf(std::string_view id) {
    if (id.size() < 2 || (id[0] != '@' && id[0] != '#')) return {};
    size_t colon = id.find(':');
    return id.substr(1, colon == std::string_view::npos ? std::string_view::npos : colon - 1);
}

std::string_view serverOf(std::string_view id) {
    size_t colon = id.find(':');
    return colon == std::string_view::npos ? std::string_view() : id.substr(colon + 1);
}

}  // namespace mxbridge
