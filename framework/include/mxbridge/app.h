// The `mxbridge` command line, as a library call, so a bridge may ship its own executable:
//   int main(int argc, char** argv) { return mxbridge::runMain(argc, argv); }
#pragma once

namespace mxbridge {

// Exit codes: each startup failure has its own, so scripts and operators can tell them apart.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,           // anything unexpected
    kExitUsage = 2,             // wrong command-line arguments
    kExitConfig = 3,            // the config file is missing or invalid (also: first run)
    kExitDatabase = 4,          // the database cannot be opened or is not ours
    kExitRegistration = 5,      // the registration file is missing, invalid or conflicting
    kExitListen = 6,            // the appservice port cannot be bound
    kExitBridge = 7,            // the bridge type is unknown or its plug-in failed to load
    kExitAlreadyRunning = 8,    // another mxbridge process runs on the same database
    kExitHomeserverDown = 10,   // /_matrix/client/versions never answered
    kExitHomeserverTooOld = 11, // the homeserver supports no spec version we can work with
    kExitTokenRejected = 12,    // whoami refused the as_token
    kExitPingFailed = 13,       // the homeserver cannot reach us, or refuses our answers
};

int runMain(int argc, char** argv);

}  // namespace mxbridge
