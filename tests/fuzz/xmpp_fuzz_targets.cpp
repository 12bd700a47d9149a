// Properties checked by the XMPP fuzzer. A violation aborts, which both libFuzzer and the
// replay driver report as a failure; the input is saved first so it can be replayed.
#include "xmpp_fuzz_targets.h"

#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "mxbridge/xmpp/jid.h"
#include "mxbridge/xmpp/serializer.h"
#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/utf8.h"
#include "mxbridge/xmpp/stream_parser.h"
#include "mxbridge/xmpp/styling.h"

namespace mxbridge::xmpp::fuzz {

using mxbridge::fuzz::beginInput;

namespace {

constexpr std::string_view kHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

// Small limits, so inputs of a few KiB reach them.
constexpr StreamParserLimits kLimits{.maxStanzaBytes = 2048, .maxDepth = 8};

struct Outcome {
    std::vector<Element> stanzas;
};

Outcome read(std::string_view input, std::size_t chunk) {
    StreamParser parser(kLimits);
    Outcome out;
    for (std::size_t i = 0; i < input.size(); i += chunk) {
        bool ok = parser.feed(input.substr(i, chunk));
        MXBRIDGE_FUZZ_CHECK(ok == !parser.error().has_value());
        while (auto event = parser.next())
            if (event->kind == StreamEvent::Kind::Stanza) out.stanzas.push_back(std::move(event->stanza));
        if (!ok) break;
    }
    return out;
}

bool validOutput(std::string_view xml) {
    // Our own output: UTF-8 characters XML allows only (toXmlChars leaves it unchanged).
    return toXmlChars(xml) == xml;
}

void checkParser(std::string_view input) {
    std::size_t chunk = 1 + (input.empty() ? 0 : static_cast<unsigned char>(input.back()) % 61);
    Outcome whole = read(input, input.size() + 1);
    Outcome split = read(input, chunk);
    MXBRIDGE_FUZZ_CHECK(whole.stanzas == split.stanzas);
    // The condition is not compared: expat may wait for more bytes before it reports an error
    // (the first bytes, where it guesses the encoding) or find it in a different run of text,
    // so whether an unfinished input has failed yet depends on the split. Stanzas never do.
    for (const auto& stanza : whole.stanzas) {
        // Held in memory: bounded by the stanza limit (times a constant for the tree).
        MXBRIDGE_FUZZ_CHECK(stanza.approximateSize() <= 64 * kLimits.maxStanzaBytes);
        std::string xml;
        try {
            xml = serialize(stanza, "jabber:client");
        } catch (const std::invalid_argument&) {
            MXBRIDGE_FUZZ_CHECK(!"a parsed stanza's names are XML names");
        }
        MXBRIDGE_FUZZ_CHECK(validOutput(xml));
        StreamParser again(StreamParserLimits{.maxStanzaBytes = 1 << 20, .maxDepth = 8});
        MXBRIDGE_FUZZ_CHECK(again.feed(std::string(kHeader) + xml));
        again.next();  // the header
        auto back = again.next();
        MXBRIDGE_FUZZ_CHECK(back.has_value() && back->kind == StreamEvent::Kind::Stanza);
        MXBRIDGE_FUZZ_CHECK(back->stanza == stanza);
    }
}

void checkEscaping(std::string_view input) {
    // Any bytes as text and as an attribute value: read back as exactly one stanza holding
    // them (after U+FFFD replacement), never as markup.
    Element message("message", "jabber:client");
    message.setAttr("id", std::string(input));
    message.addChild("body", "jabber:client").addText(input);
    std::string xml = serialize(message, "jabber:client");
    MXBRIDGE_FUZZ_CHECK(validOutput(xml));
    StreamParser parser(StreamParserLimits{.maxStanzaBytes = 1 << 22, .maxDepth = 8});
    MXBRIDGE_FUZZ_CHECK(parser.feed(std::string(kHeader) + xml));
    parser.next();
    auto back = parser.next();
    MXBRIDGE_FUZZ_CHECK(back.has_value() && !parser.next().has_value());
    std::string clean = toXmlChars(input);
    MXBRIDGE_FUZZ_CHECK(back->stanza.attr("id") == clean);
    MXBRIDGE_FUZZ_CHECK(back->stanza.childText("body", "jabber:client") == clean);
    MXBRIDGE_FUZZ_CHECK(back->stanza.elements().size() == 1);
}

void checkJid(std::string_view input) {
    if (auto jid = Jid::parse(input)) {
        auto again = Jid::parse(jid->str());
        MXBRIDGE_FUZZ_CHECK(again.has_value() && *again == *jid);
        MXBRIDGE_FUZZ_CHECK(jid->local().size() <= Jid::kMaxPartBytes);
        MXBRIDGE_FUZZ_CHECK(jid->domain().size() <= Jid::kMaxPartBytes);
        MXBRIDGE_FUZZ_CHECK(jid->resource().size() <= Jid::kMaxPartBytes);
        MXBRIDGE_FUZZ_CHECK(validOutput(jid->str()));
    }
    if (auto escaped = escapeLocalpart(input)) {
        MXBRIDGE_FUZZ_CHECK(unescapeLocalpart(*escaped) == input);
        MXBRIDGE_FUZZ_CHECK(Jid::fromParts(*escaped, "example.com").has_value());
    }
}

}  // namespace

void fuzzXmppStream(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("xmpp_stream", input);
    checkParser(input);
    // Most inputs are stanzas without a header; read them in a stream too.
    checkParser(std::string(kHeader) + std::string(input));
    checkEscaping(input);
    checkJid(input);
}

void fuzzXmppStyling(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    beginInput("xmpp_styling", input);
    bool utf8 = format::isValidUtf8(input);
    if (auto html = stylingToHtml(input)) {
        // A '>' line opens a quotation (25 bytes of tags) and quotations nest 32 deep at most.
        MXBRIDGE_FUZZ_CHECK(html->size() <= 32 * size + 64);
        MXBRIDGE_FUZZ_CHECK(!utf8 || format::isValidUtf8(*html));
        MXBRIDGE_FUZZ_CHECK(format::sanitizeHtml(*html) == *html);
    }
    std::string styled = htmlToStyling(input);
    MXBRIDGE_FUZZ_CHECK(!utf8 || format::isValidUtf8(styled));
}

}  // namespace mxbridge::xmpp::fuzz
