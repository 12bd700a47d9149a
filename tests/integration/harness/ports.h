// Loopback ports for test daemons.
#pragma once

#include <chrono>
#include <cstdint>

namespace mxbridge::test {

// A port that was free a moment ago (bind 127.0.0.1:0, read it, close). Another process may
// take it before the daemon binds it; that race is rare enough for tests and fails loudly.
std::uint16_t freePort();

// One TCP connect attempt to 127.0.0.1:port, giving up after `timeout`.
bool canConnect(std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace mxbridge::test
