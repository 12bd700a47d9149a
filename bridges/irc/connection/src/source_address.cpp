// Picking one host address out of a prefix, byte arithmetic on the network-order address.
#include "mxbridge/irc/source_address.h"

#include <array>
#include <charconv>

namespace mxbridge::irc {

namespace {

std::optional<boost::asio::ip::address> fail(std::string* whyNot, std::string why) {
    if (whyNot != nullptr) *whyNot = std::move(why);
    return std::nullopt;
}

// Adds `value` to the low `hostBits` bits of `bytes`; false when it does not fit there.
template <std::size_t N>
bool addToHostPart(std::array<unsigned char, N>& bytes, unsigned hostBits, std::uint64_t value) {
    if (hostBits < 64 && value >> hostBits != 0) return false;
    // The host part of the network address is zero, so adding cannot carry into the prefix.
    for (std::size_t i = N; i-- > 0 && value != 0;) {
        unsigned sum = bytes[i] + static_cast<unsigned>(value & 0xff);
        bytes[i] = static_cast<unsigned char>(sum & 0xff);
        value = (value >> 8) + (sum >> 8);
    }
    return true;
}

template <std::size_t N>
void clearHostPart(std::array<unsigned char, N>& bytes, unsigned prefixLen) {
    for (std::size_t bit = prefixLen; bit < N * 8; ++bit) {
        bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
    }
}

}  // namespace

std::optional<boost::asio::ip::address> addressInPrefix(std::string_view prefix,
                                                        std::uint64_t index,
                                                        std::string* whyNot) {
    std::size_t slash = prefix.find('/');
    if (slash == std::string_view::npos) return fail(whyNot, "prefix has no /length");
    unsigned length = 0;
    std::string_view lenText = prefix.substr(slash + 1);
    auto [end, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), length);
    if (ec != std::errc() || end != lenText.data() + lenText.size() || lenText.empty())
        return fail(whyNot, "prefix length is not a number");
    boost::system::error_code parseError;
    auto network = boost::asio::ip::make_address(std::string(prefix.substr(0, slash)), parseError);
    if (parseError) return fail(whyNot, "not an IP address: " + std::string(prefix.substr(0, slash)));
    // Index 0 is network + 1: see the header.
    if (index == UINT64_MAX) return fail(whyNot, "index too large");
    std::uint64_t offset = index + 1;

    if (network.is_v6()) {
        if (length > 128) return fail(whyNot, "IPv6 prefix length above 128");
        auto bytes = network.to_v6().to_bytes();
        clearHostPart(bytes, length);
        if (!addToHostPart(bytes, 128 - length, offset))
            return fail(whyNot, "index does not fit in the prefix");
        return boost::asio::ip::address(boost::asio::ip::address_v6(bytes));
    }
    if (length > 32) return fail(whyNot, "IPv4 prefix length above 32");
    unsigned hostBits = 32 - length;
    // The all-ones host part is the broadcast address (not for /31 and /32, RFC 3021).
    std::uint64_t usable = hostBits >= 2 ? (std::uint64_t{1} << hostBits) - 2
                                         : (std::uint64_t{1} << hostBits);
    if (hostBits < 2) offset = index;  // no network/broadcast addresses to skip
    if (index >= usable) return fail(whyNot, "index does not fit in the prefix");
    auto bytes = network.to_v4().to_bytes();
    clearHostPart(bytes, length);
    addToHostPart(bytes, hostBits, offset);
    return boost::asio::ip::address(boost::asio::ip::address_v4(bytes));
}

}  // namespace mxbridge::irc
