// Cutting a Matrix message into IRC lines that fit the 512-byte limit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mxbridge::irc {

// Below this a piece could not hold one colour code plus a character; smaller budgets are
// raised to it.
inline constexpr std::size_t kMinSplitBytes = 16;

// Splits `text` into lines of at most max(maxBytes, kMinSplitBytes) bytes each. Each input
// line ('\n'-separated, CR dropped) gives one or more output lines; lines without visible
// text are dropped. Long lines break at the last space that fits, else at the last UTF-8
// character boundary, never inside a formatting code. The break space itself is dropped,
// so joining the pieces with spaces gives the words back. Formatting active at a break
// (including across input lines, since IRC resets it at each line end) is re-opened at the
// start of the next piece.
std::vector<std::string> splitForIrc(std::string_view text, std::size_t maxBytes);

// Bytes left for the text of "PRIVMSG <target> :<text>" as the server relays it to others:
// 512 minus CR LF, ":<prefix> ", the command, the target and " :". `prefixLen` is the length
// of our "nick!user@host" as the server shows it; pass 0 when unknown (before the 396/JOIN
// echo tells us our host) to assume a long one. A further margin covers a host that changes
// under us (cloaks, vhosts). `ctcpAction` reserves the "\x01ACTION " ... "\x01" framing.
std::size_t maxPayloadBytes(std::size_t targetLen, std::size_t prefixLen, bool ctcpAction = false);

}  // namespace mxbridge::irc
