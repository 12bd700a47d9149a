// IRC's case-insensitivity for nicks and channels, which depends on the server's
// CASEMAPPING (RPL_ISUPPORT): under rfc1459 "[]\~" are the upper case of "{}|^".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::irc {

enum class CaseMapping {
    Ascii,          // only A-Z
    Rfc1459,        // A-Z and []\~ -> {}|^ (the default when a server says nothing)
    StrictRfc1459,  // A-Z and []\ -> {}| (no ~/^)
};

// "ascii", "rfc1459", "strict-rfc1459"; "rfc7613" is treated as ascii, which is right for
// the ASCII nicks we create and compare.
std::optional<CaseMapping> parseCaseMapping(std::string_view name);

char ircLower(char c, CaseMapping mapping);
std::string ircLower(std::string_view text, CaseMapping mapping);
bool ircEquals(std::string_view a, std::string_view b, CaseMapping mapping);

// Hash and equality for unordered containers keyed by nick or channel name.
struct IrcCaseHash {
    CaseMapping mapping = CaseMapping::Rfc1459;
    std::size_t operator()(std::string_view key) const;
};

struct IrcCaseEqual {
    CaseMapping mapping = CaseMapping::Rfc1459;
    bool operator()(std::string_view a, std::string_view b) const {
        return ircEquals(a, b, mapping);
    }
};

}  // namespace mxbridge::irc
