// SPDX-License-Identifier: GPL-2.0-or-later
//
// libpurple's request and notify UI ops for a host nobody sits in front of. Until the bridge
// can put a prompt to the account's owner, every prompt that has a cancel is cancelled (so
// a plugin never waits for an answer that cannot come) and every prompt and notice is
// reported through `report` (it reaches the bridge as a host_log line). Prompts with actions
// only (no cancel) are left open and reported: no answer is safer than a guessed one, since
// one of them may be "accept this certificate".
#pragma once

#include <functional>
#include <string>

namespace mxbridge::purple::host {

// `report(level, text)`; installs the ops. Once, before accounts connect.
void installPromptPolicy(std::function<void(const char* level, const std::string& text)> report);

}  // namespace mxbridge::purple::host
