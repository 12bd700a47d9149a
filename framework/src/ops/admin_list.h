// Who is a bridge admin (appservice.admins): exact Matrix user ids, or regexes matched
// against the whole id. Entries are validated at config load, so construction does not fail
// on a config that loaded.
#pragma once

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "mxbridge/ids.h"

namespace mxbridge::detail {

class AdminList {
public:
    AdminList() = default;
    // Throws std::regex_error for an entry that is neither a user id nor a regex.
    explicit AdminList(const std::vector<std::string>& entries);
    bool isAdmin(const UserId& user) const;

private:
    std::set<std::string> exact_;
    std::vector<std::regex> patterns_;
};

}  // namespace mxbridge::detail
