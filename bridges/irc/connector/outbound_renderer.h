// Matrix -> IRC text: what a Matrix message, edit or reaction becomes as IRC lines for one
// target, split to fit the server's line length. Pure: whom a pill or a reply names is asked
// of the caller (NickLookup), so rendering needs no network state and no lock.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <mxbridge/matrix_events.h>

#include "mapping.h"
#include "mxbridge/irc/message.h"
#include "network_config.h"

namespace mxbridge::irc {

class OutboundRenderer {
public:
    struct NickLookup {
        // The IRC nick a Matrix user id (in a pill) stands for, if any.
        std::function<std::optional<std::string>(const std::string& userId)> forUser;
        // A folded nick (from a remote message id) as people on IRC spell it now.
        std::function<std::string(const std::string& folded)> current;
    };

    // `media`: the framework's media links (BridgeContext::media()); null: none.
    OutboundRenderer(const NetworkConfig& config, const IrcBridgeConfig& bridge, const MediaLinks* media = nullptr)
        : config_(config), bridge_(bridge), media_(media) {}

    // The message's text (media as a link, HTML as mIRC codes, pills as nicks, a reply
    // addressed to the replied-to author) split into lines that fit after `prefix`.
    // `emote` says whether it is an action.
    std::vector<std::string> lines(const MatrixMessage& message, const RemoteTarget& target,
                                   const std::string& prefix, bool& emote, const NickLookup& nicks) const;
    // An edit's new text, on one line before splitting.
    std::string editText(const MatrixEdit& edit) const;
    // The one IRC line an edit becomes ("<prefix>* <first line>"), none when it is empty.
    std::optional<std::string> editLine(const std::string& text, const RemoteTarget& target,
                                        const std::string& prefix) const;
    // PRIVMSG, NOTICE or CTCP ACTION of `text` to the target.
    static IrcMessage lineTo(const RemoteTarget& target, MessageKind kind, const std::string& text);

private:
    const NetworkConfig& config_;
    const IrcBridgeConfig& bridge_;
    const MediaLinks* media_;
};

}  // namespace mxbridge::irc
