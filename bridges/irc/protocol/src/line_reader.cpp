// Incremental LF framing with a bound on the unfinished line.
#include "mxbridge/irc/line_reader.h"

namespace mxbridge::irc {

LineReader::LineReader(std::size_t maxLineBytes)
    : maxLineBytes_(maxLineBytes == 0 ? 1 : maxLineBytes) {}

void LineReader::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        std::size_t lf = bytes.find('\n');
        std::string_view chunk = bytes.substr(0, lf);
        if (!discarding_) {
            if (partial_.size() + chunk.size() > maxLineBytes_) {
                // Count the line once, now, even if its end arrives much later.
                ++dropped_;
                discarding_ = true;
                partial_.clear();
            } else {
                partial_.append(chunk);
            }
        }
        if (lf == std::string_view::npos) return;
        finishLine();
        bytes.remove_prefix(lf + 1);
    }
}

void LineReader::finishLine() {
    if (discarding_) {
        discarding_ = false;
        return;
    }
    // CR before LF belongs to the terminator; servers that send bare LF also exist.
    while (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (!partial_.empty()) ready_.push_back(std::move(partial_));
    partial_.clear();
}

std::optional<std::string> LineReader::next() {
    if (ready_.empty()) return std::nullopt;
    std::string line = std::move(ready_.front());
    ready_.pop_front();
    return line;
}

}  // namespace mxbridge::irc
