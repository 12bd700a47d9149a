// Properties checked by the Slack fuzzer. A violation aborts, which both libFuzzer and the
// replay driver report as a failure; the input is saved first so it can be replayed.
#include "slack_fuzz_targets.h"

#include <chrono>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mxbridge/slack/event_envelope.h"
#include "mxbridge/slack/message_text.h"
#include "mxbridge/slack/request_signature.h"
#include "mxbridge/slack/rich_text.h"
#include "mxbridge/slack/socket_mode.h"

namespace mxbridge::slack::fuzz {

using mxbridge::fuzz::beginInput;

namespace {

void checkEnvelope(std::string_view input) {
    Envelope envelope = parseEnvelope(input);
    if (const auto* error = std::get_if<EnvelopeError>(&envelope)) {
        MXBRIDGE_FUZZ_CHECK(!error->message.empty());
        return;
    }
    if (const auto* callback = std::get_if<EventCallback>(&envelope)) {
        MXBRIDGE_FUZZ_CHECK(isSafeSlackId(callback->eventId));
        MXBRIDGE_FUZZ_CHECK(callback->teamId.empty() || isSafeSlackId(callback->teamId));
        MXBRIDGE_FUZZ_CHECK(!callback->eventType.empty());
        MXBRIDGE_FUZZ_CHECK(callback->event.is_object());
    }
    if (const auto* verification = std::get_if<UrlVerification>(&envelope))
        MXBRIDGE_FUZZ_CHECK(!verification->challenge.empty());
    // What the inbox stores and reads back after a restart is the same envelope.
    nlohmann::json written = envelopeToJson(envelope);
    MXBRIDGE_FUZZ_CHECK(envelopeFromJson(written) == envelope);
    MXBRIDGE_FUZZ_CHECK(parseEnvelope(written.dump()) == envelope);
}

void checkSignature(std::string_view input) {
    RequestVerifier verifier("fuzz-secret");
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    std::string signature = verifier.sign("1700000000", input);
    MXBRIDGE_FUZZ_CHECK(verifier.verify({"1700000000", signature, input}, now) == SignatureVerdict::Valid);
    if (!input.empty()) {
        std::string changed(input);
        changed[changed.size() / 2] ^= 0x01;
        MXBRIDGE_FUZZ_CHECK(verifier.verify({"1700000000", signature, changed}, now) ==
                            SignatureVerdict::BadSignature);
    }
    // The input as the signature header: never valid unless it is the real one.
    if (input != signature)
        MXBRIDGE_FUZZ_CHECK(verifier.verify({"1700000000", input, ""}, now) != SignatureVerdict::Valid);
}

void checkSocketFrame(std::string_view input) {
    SocketFrame frame = parseSocketFrame(input);
    if (const auto* envelope = std::get_if<SocketEnvelope>(&frame)) {
        MXBRIDGE_FUZZ_CHECK(!envelope->envelopeId.empty() && envelope->envelopeId.size() <= 128);
        // The ack names the envelope exactly, whatever its id holds.
        nlohmann::json ack = nlohmann::json::parse(socketAck(envelope->envelopeId));
        MXBRIDGE_FUZZ_CHECK(ack.at("envelope_id") == envelope->envelopeId);
    }
}

void checkText(std::string_view input) {
    (void)slackTextToPlain(input, [](std::string_view id) { return std::string(id.substr(0, 8)); });
    // What the bridge posts reads back on Slack as exactly what the Matrix user typed.
    std::string escaped = escapeForSlack(input);
    MXBRIDGE_FUZZ_CHECK(escaped.find('<') == std::string::npos && escaped.find('>') == std::string::npos);
    MXBRIDGE_FUZZ_CHECK(slackTextToPlain(escaped, nullptr) == input);
    // Matrix HTML as mrkdwn: without ghosts to mention, nothing in it mentions or pings.
    std::string mrkdwn = htmlToMrkdwn(input, [](std::string_view) { return std::optional<std::string>(); });
    MXBRIDGE_FUZZ_CHECK(mrkdwn.find("<!") == std::string::npos && mrkdwn.find("<@") == std::string::npos &&
                        mrkdwn.find("<#") == std::string::npos);
    // Any JSON as blocks: never throws.
    nlohmann::json blocks = nlohmann::json::parse(input, nullptr, false);
    if (!blocks.is_discarded() && withinNestingDepth(input, 64)) (void)richTextToHtml(blocks, RichTextNames{});
}

}  // namespace

void fuzzSlackEnvelope(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("slack_envelope", input);
    checkEnvelope(input);
    checkSignature(input);
    checkText(input);
    checkSocketFrame(input);
}

}  // namespace mxbridge::slack::fuzz
