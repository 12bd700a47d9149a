// SPDX-License-Identifier: GPL-2.0-or-later
//
// What this machine's libpurple offers: each protocol plugin with the login fields it
// declares (username splits, password use, protocol options), read from the plugins
// themselves so a newly installed plugin needs no change in the bridge.
#pragma once

#include <purple.h>

#include <string>

#include "mxbridge/purple/messages.h"

namespace mxbridge::purple::host {

wire::ProtocolList listProtocols();

// The plugin's option for `key` (a protocol option's setting name), or null.
PurpleAccountOption* findOption(PurplePlugin* plugin, const std::string& key);

}  // namespace mxbridge::purple::host
