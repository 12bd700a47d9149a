// Per-puppet source addresses: with an IPv6 prefix routed to the bridge host, each puppet
// connects from its own address, so servers can tell (and ban) puppets apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace mxbridge::irc {

// The address `index` places into `prefix` ("2001:db8:1::/64", "10.0.0.0/24"). Index 0 is
// the first host address (network + 1): the network address itself is the subnet-router
// anycast address in IPv6 and not a host in IPv4. nullopt, with the reason in `whyNot`, for
// a malformed prefix or an index that does not fit (IPv4 broadcast excluded).
std::optional<boost::asio::ip::address> addressInPrefix(std::string_view prefix,
                                                        std::uint64_t index,
                                                        std::string* whyNot = nullptr);

}  // namespace mxbridge::irc
