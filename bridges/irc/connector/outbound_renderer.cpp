// Matrix -> IRC lines (see outbound_renderer.h).
#include "outbound_renderer.h"

#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/text_split.h"

namespace mxbridge::irc {

IrcMessage OutboundRenderer::lineTo(const RemoteTarget& target, MessageKind kind, const std::string& text) {
    return kind == MessageKind::Emote    ? build::ctcpAction(target.ircTarget(), text)
           : kind == MessageKind::Notice ? build::notice(target.ircTarget(), text)
                                         : build::privmsg(target.ircTarget(), text);
}

std::vector<std::string> OutboundRenderer::lines(const MatrixMessage& message, const RemoteTarget& target,
                                                 const std::string& prefix, bool& emote,
                                                 const NickLookup& nicks) const {
    emote = message.kind == MessageKind::Emote;
    std::string text;
    if (message.media) {
        std::string name = message.media->fileName.empty() ? message.body : message.media->fileName;
        text = mediaLink(message.media->mxcUrl, media_, bridge_.mediaBaseUrl, name);
        if (!name.empty() && name != text) text = name + " " + text;
    } else if (message.html) {
        text = htmlToIrc(replacePills(*message.html, nicks.forUser));
    } else {
        text = message.body;
    }
    if (message.replyTo) {
        if (config_.condense.replyOneLine) text = condenseLines(text);
        if (message.replyToRemote) {
            // The replied-to author is addressed, IRC style.
            std::string nick = nicks.current(remoteAuthorNick(*message.replyToRemote));
            if (!nick.empty()) text = nick + ": " + text;
        }
    }
    std::size_t budget = maxPayloadBytes(target.ircTarget().size(), 0, emote);
    budget = budget > prefix.size() + kMinSplitBytes ? budget - prefix.size() : kMinSplitBytes;
    return splitForIrc(text, budget);
}

std::string OutboundRenderer::editText(const MatrixEdit& edit) const {
    return condenseLines(edit.newHtml ? htmlToIrc(*edit.newHtml) : edit.newBody);
}

std::optional<std::string> OutboundRenderer::editLine(const std::string& text, const RemoteTarget& target,
                                                      const std::string& prefix) const {
    std::size_t budget = maxPayloadBytes(target.ircTarget().size(), 0, false);
    budget = budget > prefix.size() + 2 + kMinSplitBytes ? budget - prefix.size() - 2 : kMinSplitBytes;
    auto lines = splitForIrc(text, budget);
    if (lines.empty()) return std::nullopt;
    return prefix + "* " + lines.front();
}

}  // namespace mxbridge::irc
