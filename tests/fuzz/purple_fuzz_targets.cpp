// Properties checked by the libpurple wire fuzzer. A violation aborts, which both libFuzzer
// and the replay driver report as a failure; the input is saved first so it can be replayed.
#include "purple_fuzz_targets.h"

#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mxbridge/purple/frame.h"
#include "mxbridge/purple/messages.h"

namespace mxbridge::purple::fuzz {

using mxbridge::fuzz::beginInput;
using namespace mxbridge::purple::wire;

namespace {

std::size_t depthOf(const Value& value) {
    std::size_t deepest = 0;
    if (const List* list = value.asList()) {
        for (const auto& item : *list) deepest = std::max(deepest, depthOf(item));
        return deepest + 1;
    }
    if (const Record* record = value.asRecord()) {
        for (const auto& field : record->fields()) deepest = std::max(deepest, depthOf(field.value));
        return deepest + 1;
    }
    return 0;
}

// A typed message read from `body` either throws FieldError or gives one whose own record
// goes through the wire and reads back to the same record.
template <typename T>
void checkTyped(const Record& body) {
    try {
        T typed = T::fromRecord(body);
        Record again = typed.toRecord();
        Message message{.kind = Kind::Event, .id = 1, .type = std::string(T::kType), .body = again};
        std::string bytes;
        try {
            bytes = encode(message);
        } catch (const EncodeError&) {
            // A typed message may grow past the frame limit only through default fields it
            // adds to a body at the limit: then the encoder must say so, as it did.
            return;
        }
        DecodeResult back = decode(bytes);
        MXBRIDGE_FUZZ_CHECK(back.ok());
        MXBRIDGE_FUZZ_CHECK(T::fromRecord(back.message().body).toRecord() == again);
    } catch (const FieldError&) {
    }
}

void checkAllTypes(const Record& body) {
    checkTyped<Hello>(body);
    checkTyped<HelloReply>(body);
    checkTyped<ProtocolList>(body);
    checkTyped<Login>(body);
    checkTyped<Logout>(body);
    checkTyped<SendIm>(body);
    checkTyped<AccountConnected>(body);
    checkTyped<AccountDisconnected>(body);
    checkTyped<ImReceived>(body);
    checkTyped<ImSent>(body);
    checkTyped<WriteFailed>(body);
    checkTyped<HostLog>(body);
    checkTyped<SendTyping>(body);
    checkTyped<Typing>(body);
    checkTyped<JoinChat>(body);
    checkTyped<LeaveChat>(body);
    checkTyped<SendChat>(body);
    checkTyped<ChatJoined>(body);
    checkTyped<ChatUsers>(body);
    checkTyped<ChatReceived>(body);
    checkTyped<ChatTopic>(body);
    checkTyped<ChatLeft>(body);
    checkTyped<ChatInvited>(body);
    checkTyped<ChatJoinFailed>(body);
    try {
        ErrorBody::fromRecord(body);
    } catch (const FieldError&) {
    }
}

}  // namespace

void fuzzPurpleWire(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("purple_wire", input);
    DecodeResult result = decode(input);
    if (!result.ok()) {
        MXBRIDGE_FUZZ_CHECK(result.error().offset <= input.size());
        MXBRIDGE_FUZZ_CHECK(!result.error().describe().empty());
        return;
    }
    const Message& message = result.message();
    MXBRIDGE_FUZZ_CHECK(input.size() <= Limits::kMaxFrameBytes);
    MXBRIDGE_FUZZ_CHECK(isValidName(message.type));
    MXBRIDGE_FUZZ_CHECK(depthOf(Value(message.body)) <= Limits::kMaxDepth + 1);
    std::string bytes = encode(message);
    MXBRIDGE_FUZZ_CHECK(bytes == input);
    DecodeResult again = decode(bytes);
    MXBRIDGE_FUZZ_CHECK(again.ok() && again.message() == message);
    checkAllTypes(message.body);
}

}  // namespace mxbridge::purple::fuzz
