#include "mxbridge/xmpp/stanza_id.h"

#include <random>

namespace mxbridge::xmpp {

StanzaIdGenerator::StanzaIdGenerator() {
    std::random_device random;
    std::uint64_t bits = (static_cast<std::uint64_t>(random()) << 32) ^ random();
    static constexpr char kHex[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) prefix_ += kHex[(bits >> shift) & 0xF];
}

std::string StanzaIdGenerator::next() {
    return prefix_ + "-" + std::to_string(++counter_);
}

}  // namespace mxbridge::xmpp
