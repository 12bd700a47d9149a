// Turns a byte stream from the socket into IRC lines, whatever the chunking.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::irc {

class LineReader {
public:
    // Tags (8191) plus a 512-byte body: anything longer is not IRC we can use.
    static constexpr std::size_t kDefaultMaxLineBytes = 8191 + 512;

    explicit LineReader(std::size_t maxLineBytes = kDefaultMaxLineBytes);

    // Appends bytes; complete lines become available through next(). A line longer than
    // the maximum is dropped up to its LF and counted, so a peer that never sends LF
    // cannot make us buffer without bound.
    void feed(std::string_view bytes);

    // The next complete line without its LF and trailing CR; empty lines are skipped.
    std::optional<std::string> next();

    std::size_t droppedLines() const { return dropped_; }
    // Bytes of the unfinished line currently held.
    std::size_t pendingBytes() const { return partial_.size(); }

private:
    void finishLine();

    std::size_t maxLineBytes_;
    std::string partial_;
    std::deque<std::string> ready_;
    bool discarding_ = false;
    std::size_t dropped_ = 0;
};

}  // namespace mxbridge::irc
