// The database holds message bodies and encrypted secrets: its folder and files are made
// private to the bridge's user whatever the umask (issue 9, item 18: 0644 under umask 022).
// SQLite gives the -wal and -shm files the mode of the database file, so making that one
// 0600 before SQLite opens it covers all three.
#pragma once

#include <filesystem>
#include <string>

namespace mxbridge::detail {

// Creates `folder` and any missing parents with mode 0700; folders that exist are left as
// they are (they may be shared ones, like /var/lib). Throws std::filesystem::filesystem_error.
void createPrivateFolders(const std::filesystem::path& folder);

// Creates `file` empty with mode 0600 if it does not exist. Throws std::system_error.
void createPrivateFile(const std::filesystem::path& file);

// Whether users other than the owner may read `file` (group or other read bit); false when
// it does not exist.
bool readableByOthers(const std::filesystem::path& file);

}  // namespace mxbridge::detail
