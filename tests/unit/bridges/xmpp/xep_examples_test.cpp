// Every protocol example of the XEPs the bridge uses, read as an XMPP stream: those that are
// well-formed XMPP parse into the same stanzas however they are split and survive
// serialize-and-parse unchanged; those that are not (placeholders such as "...", comments)
// end in a stream error with the condition that names why. Skipped where the XEPs are absent.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <map>

#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/serializer.h"
#include "parse_helpers.h"
#include "xep_examples.h"

using namespace mxbridge::xmpp;
using namespace mxbridge::xmpp::test;

namespace {

std::vector<XepExample>& examples() {
    static std::vector<XepExample> all = loadXepExamples(*xepsDir());
    return all;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
        s.remove_prefix(1);
    return s;
}

// The example as a stream: stanza examples get a jabber:client stream header in front.
std::optional<std::string> asStream(const XepExample& example) {
    std::string_view xml = trimmed(example.xml);
    if (xml.rfind("<stream:stream", 0) == 0) return std::string(xml);
    for (const char* start : {"<message", "<iq", "<presence"})
        if (xml.rfind(start, 0) == 0) return std::string(kClientHeader) + std::string(xml);
    return std::nullopt;
}

bool looksRestricted(std::string_view xml) {
    return xml.find("<!--") != std::string_view::npos || xml.find("<?") != std::string_view::npos ||
           xml.find("<!DOCTYPE") != std::string_view::npos || xml.find('&') != std::string_view::npos;
}

const XepExample* findExample(std::string_view xep, std::string_view needle) {
    for (const auto& e : examples())
        if (e.xep == xep && e.xml.find(needle) != std::string::npos) return &e;
    return nullptr;
}

Element firstStanza(const XepExample& example) {
    auto r = parseAll(*asStream(example));
    INFO(example.xep << ": " << example.caption);
    REQUIRE_FALSE(r.error.has_value());
    REQUIRE_FALSE(r.stanzas.empty());
    return r.stanzas.front();
}

}  // namespace

TEST_CASE("every XEP example reads the same whole or byte by byte and round-trips") {
    std::size_t streams = 0, stanzas = 0;
    std::map<StreamErrorCondition, std::size_t> refused;
    for (const auto& example : examples()) {
        auto stream = asStream(example);
        if (!stream) continue;
        ++streams;
        INFO(example.xep << ": " << example.caption << "\n" << example.xml);
        ParseResult whole = parseAll(*stream);
        ParseResult bytes = parseAll(*stream, 1);
        CHECK(whole.stanzas == bytes.stanzas);
        CHECK(conditionOf(whole) == conditionOf(bytes));
        if (whole.error) {
            ++refused[whole.error->condition];
            // Restricted XML is only ever reported for what RFC 6120 restricts.
            if (whole.error->condition == StreamErrorCondition::RestrictedXml)
                CHECK(looksRestricted(example.xml));
            continue;
        }
        for (const auto& stanza : whole.stanzas) {
            ++stanzas;
            std::string again = std::string(kClientHeader) + serialize(stanza, ns::kClient);
            ParseResult back = parseAll(again);
            REQUIRE_FALSE(back.error.has_value());
            REQUIRE(back.stanzas.size() == 1);
            CHECK(back.stanzas[0] == stanza);
        }
    }
    MESSAGE(streams << " examples read as streams, " << stanzas << " stanzas parsed and round-tripped; refused: "
                    << refused[StreamErrorCondition::NotWellFormed] << " not-well-formed, "
                    << refused[StreamErrorCondition::RestrictedXml] << " restricted-xml, "
                    << refused[StreamErrorCondition::BadNamespacePrefix] << " bad-namespace-prefix, "
                    << refused[StreamErrorCondition::BadFormat] << " bad-format");
    CHECK(streams >= 400);
    CHECK(stanzas >= 450);
}

TEST_CASE("XEP-0114: the server's stream header and the handshake") {
    const XepExample* header = findExample("xep-0114", "id='3BF96D32'");
    REQUIRE(header != nullptr);
    StreamParser parser;
    REQUIRE(parser.feed(header->xml));
    auto opened = parser.next();
    REQUIRE(opened);
    CHECK(opened->header.contentNs == ns::kComponentAccept);
    CHECK(opened->header.from == "plays.shakespeare.lit");
    CHECK(opened->header.id == "3BF96D32");
    const XepExample* handshake = findExample("xep-0114", "<handshake>");
    REQUIRE(handshake != nullptr);
    REQUIRE(parser.feed(handshake->xml));
    auto stanza = parser.next();
    REQUIRE(stanza);
    CHECK(stanza->stanza.is("handshake", ns::kComponentAccept));
    CHECK(stanza->stanza.text() == "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e");
}

TEST_CASE("XEP-0199: a ping is an iq get with <ping xmlns='urn:xmpp:ping'/>") {
    const XepExample* ping = findExample("xep-0199", "<ping xmlns='urn:xmpp:ping'/>");
    REQUIRE(ping != nullptr);
    Element iq = firstStanza(*ping);
    CHECK(iq.is("iq", ns::kClient));
    CHECK(iq.attr("type") == "get");
    CHECK(iq.child("ping", ns::kPing) != nullptr);
}

TEST_CASE("XEP-0030: a disco#info result lists identities and features") {
    const XepExample* info = findExample("xep-0030", "type='result'");
    REQUIRE(info != nullptr);
    Element iq = firstStanza(*info);
    const Element* query = iq.child("query", ns::kDiscoInfo);
    REQUIRE(query != nullptr);
    CHECK_FALSE(query->children("identity", ns::kDiscoInfo).empty());
    auto features = query->children("feature", ns::kDiscoInfo);
    CHECK(features.size() >= 2);
    for (const Element* f : features) CHECK_FALSE(f->attrOr("var").empty());
}

int main(int argc, char** argv) {
    requireXepsOrSkip("unit_xmpp_xep_examples");
    doctest::Context context(argc, argv);
    return context.run();
}
