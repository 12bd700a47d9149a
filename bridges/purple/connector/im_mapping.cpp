#include "im_mapping.h"

#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/plain_text.h"

namespace mxbridge::purple {

std::string imRoomId(const std::string& network, const std::string& owner, const std::string& buddy) {
    return "im/" + network + "/" + owner + "/" + buddy;
}

std::optional<ImRoom> parseImRoomId(std::string_view id) {
    if (id.substr(0, 3) != "im/") return std::nullopt;
    id.remove_prefix(3);
    std::size_t first = id.find('/');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = id.find('/', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    ImRoom room{.network = std::string(id.substr(0, first)),
                .owner = std::string(id.substr(first + 1, second - first - 1)),
                .buddy = std::string(id.substr(second + 1))};
    if (room.network.empty() || room.owner.empty() || room.buddy.empty()) return std::nullopt;
    return room;
}

std::string ghostIdOf(const std::string& network, const std::string& buddy) { return network + "." + buddy; }

std::string remoteUserIdOf(const std::string& network, const std::string& buddy) { return network + "/" + buddy; }

std::string accountHandleOf(const std::string& owner, const std::string& network) { return owner + " " + network; }

std::string purpleMarkupOf(const std::string& body, const std::optional<std::string>& html) {
    if (html) return format::sanitizeHtml(*html);
    std::string escaped = format::escapeHtml(body);
    std::string out;
    for (char c : escaped) {
        if (c == '\n')
            out += "<br>";
        else
            out += c;
    }
    return out;
}

MatrixText matrixTextOf(const std::string& markup) {
    MatrixText text;
    text.body = format::htmlToPlainText(markup, format::PlainTextMarkup{});
    // Escaped text and line breaks alone are plain text; anything else is formatting.
    std::string clean = format::sanitizeHtml(markup);
    if (format::escapeHtml(text.body) != clean && markup.find('<') != std::string::npos) {
        bool onlyBreaks = true;
        for (std::size_t at = clean.find('<'); at != std::string::npos; at = clean.find('<', at + 1))
            if (clean.compare(at, 4, "<br>") != 0 && clean.compare(at, 6, "<br />") != 0 &&
                clean.compare(at, 5, "<br/>") != 0)
                onlyBreaks = false;
        if (!onlyBreaks) text.html = clean;
    }
    return text;
}

}  // namespace mxbridge::purple
