// Finding highlights of nicks in IRC text, so they can become Matrix mentions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/irc/casemapping.h"

namespace mxbridge::irc {

struct Mention {
    std::size_t offset = 0;  // byte offset in the text
    std::size_t length = 0;
    std::string nick;  // as given in `nicks`, not as written in the text
};

// Occurrences of any of `nicks` as a whole word ("bob: hi", "hi bob!", "@bob"), compared
// under `mapping`. Nick characters ([]\`_^{|}- included) and non-ASCII bytes count as word
// characters, so "bobby" does not highlight "bob". Longer nicks win where two could match.
std::vector<Mention> findMentions(std::string_view text, const std::vector<std::string>& nicks,
                                  CaseMapping mapping);

bool mentionsNick(std::string_view text, std::string_view nick, CaseMapping mapping);

}  // namespace mxbridge::irc
