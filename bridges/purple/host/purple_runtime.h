// SPDX-License-Identifier: GPL-2.0-or-later
//
// libpurple started headless on the GLib main loop: its own user folder, the UI id
// `mxbridge`, no conversation logs, no saved passwords, debug output at warning and above
// handed to a sink (the bridge keeps the last lines for when a host dies).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mxbridge::purple::host {

inline constexpr const char* kUiId = "mxbridge";

struct RuntimeOptions {
    std::string userDir;                  // created if missing; one per host
    std::vector<std::string> pluginDirs;  // searched before libpurple's own folder
    // Each libpurple warning or error: level ("warning", "error", "fatal"), category, text.
    std::function<void(const char*, const char*, const std::string&)> logSink;
};

// Initialises libpurple; false (with `error` set) when purple_core_init refuses.
bool startLibpurple(const RuntimeOptions& options, std::string& error);
void stopLibpurple();

}  // namespace mxbridge::purple::host
