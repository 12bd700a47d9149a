#include "im_mapping.h"

#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/plain_text.h"

namespace mxbridge::purple {

std::string imRoomId(const std::string& network, const std::string& owner, const std::string& buddy) {
    return "im/" + network + "/" + owner + "/" + buddy;
}

std::optional<RoomIdParts> splitRoomId(std::string_view id, std::string_view prefix) {
    if (id.substr(0, prefix.size()) != prefix) return std::nullopt;
    id.remove_prefix(prefix.size());
    std::size_t first = id.find('/');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = id.find('/', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    RoomIdParts parts{.network = std::string(id.substr(0, first)),
                      .owner = std::string(id.substr(first + 1, second - first - 1)),
                      .rest = std::string(id.substr(second + 1))};
    if (parts.network.empty() || parts.owner.empty() || parts.rest.empty()) return std::nullopt;
    return parts;
}

std::optional<ImRoom> parseImRoomId(std::string_view id) {
    auto parts = splitRoomId(id, "im/");
    if (!parts) return std::nullopt;
    return ImRoom{.network = std::move(parts->network), .owner = std::move(parts->owner), .buddy = std::move(parts->rest)};
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

MatrixText matrixLineOf(const std::string& markup) {
    MatrixText text = matrixTextOf(markup);
    if (text.body.rfind("/me ", 0) == 0) {
        text.emote = true;
        text.body.erase(0, 4);
        text.html.reset();
    }
    return text;
}

}  // namespace mxbridge::purple
