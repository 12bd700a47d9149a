// Reads what the journal and the dispatcher need from a transaction body, and nothing more:
// for each event its routing fields and where its raw JSON sits in the body. Built on
// simdjson's on-demand parser so the ack path never builds a DOM of the content.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/events.h"

namespace mxbridge::detail {

struct ParsedItem {
    EventSource source;
    uint32_t offset;  // of the event's JSON within the body
    uint32_t length;
    MatrixEvent::Fields fields;
    // Why the bridge cannot read this event, or empty. Such an event is still acknowledged and
    // journalled in its room's order, then skipped, logged and counted instead of handled
    // (README, "Bad input"): one event's content never fails its transaction.
    std::string unreadable;
};

struct ParseOutcome {
    enum class Status { Ok, NotJson, BadJson };
    Status status = Status::Ok;
    std::string error;  // for the 400 answer: what is wrong and where
    std::vector<ParsedItem> items;
};

class TransactionParser {
public:
    // Largest number of items one transaction may carry; positions in the journal use
    // 24 bits for the index within a transaction.
    static constexpr size_t kMaxItems = 1u << 24;

    // May grow `body`'s capacity (simdjson reads up to 64 bytes past the end); never its content.
    ParseOutcome parse(std::string& body);
    static void padBody(std::string& body);
    // False when this build's parser kernel needs CPU features (AVX2) this machine lacks;
    // rebuild with -DMXBRIDGE_SIMD_LEVEL=generic then.
    static bool cpuSupported();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace mxbridge::detail
