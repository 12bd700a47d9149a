// Properties checked by the IRC fuzzers. A violation aborts, which both libFuzzer and the
// replay driver report as a failure; the input is saved first so it can be replayed.
#include "irc_fuzz_targets.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mxbridge/irc/caps.h"
#include "mxbridge/irc/ctcp.h"
#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/isupport.h"
#include "mxbridge/irc/line_reader.h"
#include "mxbridge/irc/mentions.h"
#include "mxbridge/irc/message.h"
#include "mxbridge/irc/nick.h"
#include "mxbridge/irc/server_time.h"
#include "mxbridge/irc/text_encoding.h"
#include "mxbridge/irc/text_split.h"

namespace mxbridge::irc::fuzz {

using mxbridge::fuzz::beginInput;

namespace {

bool clean(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void checkRoundTrip(std::string_view input) {
    auto first = IrcMessage::parse(input);
    if (!first) return;
    std::string s1 = first->serialize();
    MXBRIDGE_FUZZ_CHECK(clean(s1));
    auto second = IrcMessage::parse(s1);
    MXBRIDGE_FUZZ_CHECK(second.has_value());
    MXBRIDGE_FUZZ_CHECK(second->command == first->command);
    MXBRIDGE_FUZZ_CHECK(second->params.size() == first->params.size());
    MXBRIDGE_FUZZ_CHECK(second->params.empty() || second->params.back() == first->params.back());
    std::string s2 = second->serialize();
    auto third = IrcMessage::parse(s2);
    MXBRIDGE_FUZZ_CHECK(third.has_value());
    MXBRIDGE_FUZZ_CHECK(third->serialize() == s2);

    CapNegotiation caps;
    caps.handle(*first);
    for (const auto& req : caps.requestMessages(true)) MXBRIDGE_FUZZ_CHECK(clean(req.serialize()));
    ISupport isupport;
    isupport.apply(*first);
    (void)isupport.isChannel(first->param(0));
    (void)serverTimeMs(*first);
    if (auto ctcp = parseCtcp(first->param(1)))
        if (auto reply = ctcpReply(*ctcp, "v"))
            MXBRIDGE_FUZZ_CHECK(
                clean(build::notice(first->sourceParts().nick, *reply).serialize()));
}

void checkBuilders(std::string_view input) {
    std::string_view a = input.substr(0, input.size() / 2);
    std::string_view b = input.substr(input.size() / 2);
    IrcMessage built[] = {build::privmsg(a, b),
                          build::ctcpAction(a, b),
                          build::kick(a, a, b),
                          build::user(a, b),
                          build::join(a, b),
                          build::topic(a, b),
                          build::mode(a, b, {std::string(a)})};
    for (const auto& m : built) {
        std::string line = m.serialize();
        MXBRIDGE_FUZZ_CHECK(clean(line));
        auto back = IrcMessage::parse(line);
        MXBRIDGE_FUZZ_CHECK(back.has_value());
        MXBRIDGE_FUZZ_CHECK(back->command == m.command);
        MXBRIDGE_FUZZ_CHECK(back->params.size() == m.params.size());
    }
    for (const auto& m : build::authenticatePlain(a, b, a))
        MXBRIDGE_FUZZ_CHECK(clean(m.serialize()) && m.params[0].size() <= 400);
    std::string nick = sanitizeNick(input, 1 + input.size() % 40);
    MXBRIDGE_FUZZ_CHECK(isValidNick(nick, 1 + input.size() % 40));
    (void)findMentions(input, {std::string(a), "bob"}, CaseMapping::Rfc1459);
}

void checkLineReader(std::string_view input) {
    LineReader reader(64);
    std::size_t step = 1 + (input.empty() ? 0 : static_cast<unsigned char>(input[0]) % 17);
    for (std::size_t i = 0; i < input.size(); i += step) reader.feed(input.substr(i, step));
    while (auto line = reader.next()) {
        MXBRIDGE_FUZZ_CHECK(!line->empty() && line->size() <= 64);
        MXBRIDGE_FUZZ_CHECK(line->find('\n') == std::string::npos && line->back() != '\r');
    }
    MXBRIDGE_FUZZ_CHECK(reader.pendingBytes() <= 64);
}

// The visible characters of `text` as splitForIrc sees them (CR and NUL go, each line's
// codes are stripped), without whitespace: what no split may lose or add.
std::string visibleSignature(std::string_view text) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        std::string line;
        for (char c :
             text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start))
            if (c != '\r' && c != '\0') line += c;
        for (char c : ircStripFormatting(line))
            if (c != ' ' && c != '\t') out += c;
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return out;
}

void checkSplit(std::string_view text, std::size_t maxBytes, bool utf8) {
    auto lines = splitForIrc(text, maxBytes);
    std::string joined;
    for (const auto& line : lines) {
        MXBRIDGE_FUZZ_CHECK(line.size() <= std::max(maxBytes, kMinSplitBytes));
        MXBRIDGE_FUZZ_CHECK(clean(line));
        MXBRIDGE_FUZZ_CHECK(!utf8 || isValidUtf8(line));
        MXBRIDGE_FUZZ_CHECK(clean(build::privmsg("#c", line).serialize()));
        for (char c : ircStripFormatting(line))
            if (c != ' ' && c != '\t') joined += c;
    }
    MXBRIDGE_FUZZ_CHECK(joined == visibleSignature(text));
}

}  // namespace

void fuzzIrcMessage(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("irc_message", input);
    checkRoundTrip(input);
    checkBuilders(input);
    checkLineReader(input);
    MXBRIDGE_FUZZ_CHECK(isValidUtf8(decodeIrcText(input)));
}

void fuzzIrcFormatting(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("irc_formatting", input);
    std::string text = decodeIrcText(input);

    auto formatted = ircToHtml(text);
    MXBRIDGE_FUZZ_CHECK(isValidUtf8(formatted.plain) && isValidUtf8(formatted.html));
    MXBRIDGE_FUZZ_CHECK(formatted.plain == ircStripFormatting(text));
    MXBRIDGE_FUZZ_CHECK(formatted.html.size() <= 160 * (text.size() + 1));
    (void)ircToHtml(input);

    bool inputIsUtf8 = isValidUtf8(input);
    std::string irc = htmlToIrc(input);
    MXBRIDGE_FUZZ_CHECK(irc.size() <= 8 * input.size() + 64);
    MXBRIDGE_FUZZ_CHECK(!inputIsUtf8 || isValidUtf8(irc));
    std::string fromText = htmlToIrc(text);
    MXBRIDGE_FUZZ_CHECK(isValidUtf8(fromText));
    if (!formatted.html.empty()) {
        // What we produce, we read back with the same visible text.
        std::string back = htmlToIrc(formatted.html);
        MXBRIDGE_FUZZ_CHECK(isValidUtf8(back));
    }

    std::size_t maxBytes = size == 0 ? 400 : 8 + static_cast<unsigned char>(input[0]) * 2;
    checkSplit(text, maxBytes, true);
    checkSplit(input, maxBytes, false);
    checkSplit(fromText, maxBytes, true);
}

}  // namespace mxbridge::irc::fuzz
