// What the server told us about itself in RPL_ISUPPORT (005) lines.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "mxbridge/irc/casemapping.h"
#include "mxbridge/irc/message.h"

namespace mxbridge::irc {

class ISupport {
public:
    // Reads the tokens of one 005 line (params between our nick and the trailing text).
    // Several 005 lines accumulate; "-TOKEN" removes a token again.
    void apply(const IrcMessage& msg);
    void applyToken(std::string_view token);

    // The raw value of a token ("" for a token without value), nullopt when not sent.
    std::optional<std::string> value(std::string_view key) const;

    CaseMapping caseMapping() const { return caseMapping_; }
    const std::string& chanTypes() const { return chanTypes_; }
    bool isChannel(std::string_view name) const;
    // PREFIX=(ov)@+ : modes "ov", symbols "@+", highest first.
    const std::string& prefixModes() const { return prefixModes_; }
    const std::string& prefixSymbols() const { return prefixSymbols_; }
    std::optional<char> modeForPrefix(char symbol) const;
    std::optional<char> prefixForMode(char mode) const;
    // CHANMODES=A,B,C,D: list modes, always-param, param-when-set, no-param.
    const std::string& chanModes(int group) const;
    std::size_t nickLen() const { return nickLen_; }
    std::size_t channelLen() const { return channelLen_; }
    std::size_t lineLen() const { return lineLen_; }
    // TARGMAX=PRIVMSG:4,JOIN:,... ; nullopt for a command not listed; 0 means no limit.
    std::optional<std::size_t> targetMax(std::string_view command) const;

private:
    void applyKnown(const std::string& key, const std::string& value, bool removed);

    std::map<std::string, std::string> tokens_;
    CaseMapping caseMapping_ = CaseMapping::Rfc1459;
    std::string chanTypes_ = "#&";
    std::string prefixModes_ = "ov";
    std::string prefixSymbols_ = "@+";
    std::string chanModes_[4] = {"beI", "k", "l", "imnpst"};
    std::size_t nickLen_ = 9;  // RFC 1459's limit, until the server says otherwise
    std::size_t channelLen_ = 200;
    std::size_t lineLen_ = 512;
    std::map<std::string, std::size_t> targMax_;
};

}  // namespace mxbridge::irc
