// Checks every appservice integration test ends with.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

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

// The bodies of the notices the bridge bot sent in `room`, in order: what a user reads there.
inline std::vector<std::string> noticesIn(const HomeserverDouble& hs, const std::string& room) {
    std::vector<std::string> bodies;
    for (const nlohmann::json& e : hs.timeline(room))
        if (e.value("type", "") == "m.room.message" && e["content"].value("msgtype", "") == "m.notice" &&
            e.value("sender", "") == hs.botUserId())
            bodies.push_back(e["content"].value("body", ""));
    return bodies;
}

}  // namespace mxbridge::test
