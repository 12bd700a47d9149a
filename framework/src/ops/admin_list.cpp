#include "ops/admin_list.h"

namespace mxbridge::detail {

namespace {
// The same line config_loader.cpp draws: a plain user id is compared exactly (its dots are
// not wildcards); anything else is a regex.
bool isUserId(const std::string& s) {
    static const std::regex re(R"(@[a-z0-9._=/+-]+:([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?)");
    return std::regex_match(s, re);
}
}  // namespace

AdminList::AdminList(const std::vector<std::string>& entries) {
    for (const auto& e : entries) {
        if (isUserId(e)) exact_.insert(e);
        else patterns_.emplace_back(e, std::regex::ECMAScript);
    }
}

bool AdminList::isAdmin(const UserId& user) const {
    if (exact_.count(user.str())) return true;
    for (const auto& p : patterns_)
        if (std::regex_match(user.str(), p)) return true;
    return false;
}

}  // namespace mxbridge::detail
