#include "mxbridge/slack/message_text.h"

namespace mxbridge::slack {

namespace {

// Decodes the three entities Slack uses; anything else that looks like one stays as typed.
std::string decodeEntities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '&') {
            std::string_view rest = text.substr(i);
            if (rest.rfind("&amp;", 0) == 0) { out.push_back('&'); i += 4; continue; }
            if (rest.rfind("&lt;", 0) == 0) { out.push_back('<'); i += 3; continue; }
            if (rest.rfind("&gt;", 0) == 0) { out.push_back('>'); i += 3; continue; }
        }
        out.push_back(text[i]);
    }
    return out;
}

// One <…> span (without the brackets) as plain text.
std::string renderSpan(std::string_view span, const UserNamer& nameOf) {
    std::size_t bar = span.find('|');
    std::string_view target = span.substr(0, bar);
    std::string label = bar == std::string_view::npos ? std::string() : decodeEntities(span.substr(bar + 1));
    if (target.rfind("@", 0) == 0) {
        std::string_view id = target.substr(1);
        std::string name = nameOf ? nameOf(id) : std::string();
        if (name.empty()) name = label.empty() ? std::string(id) : label;
        return "@" + name;
    }
    if (target.rfind("#", 0) == 0) return "#" + (label.empty() ? std::string(target.substr(1)) : label);
    if (target.rfind("!", 0) == 0) {
        std::string_view special = target.substr(1);
        if (special == "here" || special == "channel" || special == "everyone") return "@" + std::string(special);
        if (special.rfind("subteam^", 0) == 0) return label.empty() ? "@" + std::string(special.substr(8)) : label;
        return label.empty() ? std::string(special) : label;  // <!date^…|fallback> and the like
    }
    std::string url = decodeEntities(target);
    if (label.empty() || label == url) return url;
    return label + " (" + url + ")";
}

}  // namespace

std::string slackTextToPlain(std::string_view text, const UserNamer& nameOf) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t open = text.find('<', i);
        if (open == std::string_view::npos) {
            out += decodeEntities(text.substr(i));
            break;
        }
        out += decodeEntities(text.substr(i, open - i));
        std::size_t close = text.find('>', open + 1);
        if (close == std::string_view::npos) {  // a stray '<' (Slack always escapes one): kept
            out += decodeEntities(text.substr(open));
            break;
        }
        out += renderSpan(text.substr(open + 1, close - open - 1), nameOf);
        i = close + 1;
    }
    return out;
}

std::string escapeForSlack(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

}  // namespace mxbridge::slack
