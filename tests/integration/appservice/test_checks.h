// Checks every appservice integration test ends with.
#pragma once

#include <doctest/doctest.h>

#include "homeserver_double.h"

namespace mxbridge::test {

// Every request the bridge made conformed to the spec.
inline void checkNoSpecViolations(const HomeserverDouble& hs) {
    auto violations = hs.specViolations();
    std::string all;
    for (const auto& v : violations) all += v + "\n";
    INFO("spec violations:\n" << all);
    CHECK(violations.empty());
}

}  // namespace mxbridge::test
