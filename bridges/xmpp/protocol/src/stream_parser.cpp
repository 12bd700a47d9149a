#include "mxbridge/xmpp/stream_parser.h"

#include <expat.h>

#include <algorithm>
#include <cstring>

#include "mxbridge/xmpp/namespaces.h"

namespace mxbridge::xmpp {

namespace {

// Between a namespace URI and a local name in the names expat hands over. A control
// character: XML 1.0 allows it nowhere, not even as a character reference, so no URI holds it.
constexpr char kNsSeparator = '\x1F';

// expat is fed this much at a time, so limits are checked at least this often: a peer
// sending megabytes in one read cannot make the parser buffer more than this past a limit.
constexpr std::size_t kSliceBytes = 16 * 1024;

struct SplitName {
    std::string ns;
    std::string local;
};

SplitName splitName(const char* name) {
    const char* sep = std::strchr(name, kNsSeparator);
    if (sep == nullptr) return {.ns = {}, .local = name};
    return {.ns = std::string(name, sep), .local = std::string(sep + 1)};
}

bool isXmlWhitespace(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

StreamErrorCondition conditionForExpat(XML_Error code) {
    switch (code) {
        case XML_ERROR_UNBOUND_PREFIX:
        case XML_ERROR_UNDECLARING_PREFIX:
        case XML_ERROR_RESERVED_PREFIX_XML:
        case XML_ERROR_RESERVED_PREFIX_XMLNS:
        case XML_ERROR_RESERVED_NAMESPACE_URI:
            return StreamErrorCondition::BadNamespacePrefix;
        case XML_ERROR_UNKNOWN_ENCODING:
        case XML_ERROR_INCORRECT_ENCODING:
            return StreamErrorCondition::UnsupportedEncoding;
        case XML_ERROR_UNDEFINED_ENTITY:
        case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
        case XML_ERROR_ENTITY_DECLARED_IN_PE:
        case XML_ERROR_RECURSIVE_ENTITY_REF:
        case XML_ERROR_BINARY_ENTITY_REF:
        case XML_ERROR_ATTRIBUTE_EXTERNAL_ENTITY_REF:
            return StreamErrorCondition::RestrictedXml;
        case XML_ERROR_NO_MEMORY:
            return StreamErrorCondition::ResourceConstraint;
        default:
            return StreamErrorCondition::NotWellFormed;
    }
}

}  // namespace

// The expat parser and the trampolines that lead its callbacks back to the StreamParser.
struct StreamParser::Expat {
    explicit Expat(StreamParser& owner) : parser(XML_ParserCreateNS("UTF-8", kNsSeparator)) {
        if (parser == nullptr) throw std::bad_alloc();
        XML_SetUserData(parser, &owner);
        // The default, said out loud: parameter entities and external DTD subsets are never
        // read. The handlers below stop the parse before any DTD content is looked at anyway.
        XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);
        XML_SetElementHandler(
            parser,
            [](void* self, const XML_Char* name, const XML_Char** attrs) {
                static_cast<StreamParser*>(self)->onStart(name, attrs);
            },
            [](void* self, const XML_Char* name) { static_cast<StreamParser*>(self)->onEnd(name); });
        XML_SetCharacterDataHandler(parser, [](void* self, const XML_Char* data, int length) {
            static_cast<StreamParser*>(self)->onText(data, length);
        });
        XML_SetStartNamespaceDeclHandler(parser,
                                         [](void* self, const XML_Char* prefix, const XML_Char* uri) {
                                             static_cast<StreamParser*>(self)->onNamespace(prefix, uri);
                                         });
        XML_SetXmlDeclHandler(parser, [](void* self, const XML_Char* version, const XML_Char* encoding,
                                         int) { static_cast<StreamParser*>(self)->onXmlDecl(version, encoding); });
#ifdef MXBRIDGE_EXPAT_HAS_REPARSE_DEFERRAL
        // Parse what has arrived at once: a stanza must not wait for the peer's next bytes.
        // The rescans deferral would save are bounded by the stanza size cap.
        XML_SetReparseDeferralEnabled(parser, XML_FALSE);
#endif
        XML_SetStartDoctypeDeclHandler(parser, [](void* self, const XML_Char*, const XML_Char*,
                                                  const XML_Char*, int) {
            static_cast<StreamParser*>(self)->refuse("a DOCTYPE");
        });
        XML_SetEntityDeclHandler(parser, [](void* self, const XML_Char*, int, const XML_Char*, int,
                                            const XML_Char*, const XML_Char*, const XML_Char*,
                                            const XML_Char*) {
            static_cast<StreamParser*>(self)->refuse("an entity declaration");
        });
        XML_SetSkippedEntityHandler(parser, [](void* self, const XML_Char*, int) {
            static_cast<StreamParser*>(self)->refuse("an entity reference");
        });
        XML_SetCommentHandler(parser, [](void* self, const XML_Char*) {
            static_cast<StreamParser*>(self)->refuse("a comment");
        });
        XML_SetProcessingInstructionHandler(parser, [](void* self, const XML_Char*, const XML_Char*) {
            static_cast<StreamParser*>(self)->refuse("a processing instruction");
        });
    }
    ~Expat() { XML_ParserFree(parser); }
    Expat(const Expat&) = delete;
    Expat& operator=(const Expat&) = delete;

    std::uint64_t index() const { return static_cast<std::uint64_t>(XML_GetCurrentByteIndex(parser)); }
    std::uint64_t eventEnd() const { return index() + static_cast<std::uint64_t>(XML_GetCurrentByteCount(parser)); }

    XML_Parser parser;
};

StreamParser::StreamParser(StreamParserLimits limits)
    : limits_(limits), expat_(std::make_unique<Expat>(*this)) {}

StreamParser::~StreamParser() = default;

void StreamParser::reset() {
    expat_ = std::make_unique<Expat>(*this);
    events_.clear();
    error_.reset();
    opened_ = closed_ = false;
    headerDefaultNs_.clear();
    depth_ = 0;
    consumed_ = mark_ = 0;
    stanza_ = Element();
    open_.clear();
}

bool StreamParser::feed(std::string_view bytes) {
    while (!error_ && !bytes.empty()) {
        std::string_view slice = bytes.substr(0, kSliceBytes);
        bytes.remove_prefix(slice.size());
        XML_Status status = XML_Parse(expat_->parser, slice.data(), static_cast<int>(slice.size()), XML_FALSE);
        consumed_ += slice.size();
        if (status != XML_STATUS_OK && !error_) {
            XML_Error code = XML_GetErrorCode(expat_->parser);
            fail(conditionForExpat(code), std::string(XML_ErrorString(code)) + " at byte " +
                                              std::to_string(XML_GetCurrentByteIndex(expat_->parser)));
        }
        // What expat holds unparsed (a start tag still open, say) counts against the limit too.
        if (!error_) checkBacklog(consumed_);
    }
    return !error_;
}

std::optional<StreamEvent> StreamParser::next() {
    if (events_.empty()) return std::nullopt;
    StreamEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
}

void StreamParser::fail(StreamErrorCondition condition, std::string text) {
    if (error_) return;
    error_ = StreamError{.condition = condition, .text = std::move(text)};
    // Drop the half-read stanza now: a stopped stream keeps nothing it does not need.
    stanza_ = Element();
    open_.clear();
    XML_StopParser(expat_->parser, XML_FALSE);
}

void StreamParser::checkBacklog(std::uint64_t upTo) {
    if (upTo > mark_ && upTo - mark_ > limits_.maxStanzaBytes)
        fail(StreamErrorCondition::PolicyViolation,
             "stanza larger than " + std::to_string(limits_.maxStanzaBytes) + " bytes");
}

void StreamParser::refuse(std::string what) {
    fail(StreamErrorCondition::RestrictedXml,
         what + " is not allowed in an XMPP stream (at byte " + std::to_string(expat_->index()) + ")");
}

void StreamParser::onXmlDecl(const char* version, const char* encoding) {
    if (encoding != nullptr && !equalsIgnoringAsciiCase(encoding, "UTF-8")) {
        fail(StreamErrorCondition::UnsupportedEncoding,
             std::string("the stream declares encoding ") + encoding + "; XMPP is UTF-8 only");
    } else if (version != nullptr && std::string_view(version) != "1.0") {
        fail(StreamErrorCondition::UnsupportedVersion,
             std::string("the stream declares XML version ") + version);
    }
}

void StreamParser::onNamespace(const char* prefix, const char* uri) {
    if (depth_ == 0 && prefix == nullptr) headerDefaultNs_ = uri != nullptr ? uri : "";
}

void StreamParser::onStart(const char* name, const char** attrs) {
    if (error_) return;
    SplitName n = splitName(name);
    if (depth_ == 0) {
        if (n.ns != ns::kStreams) {
            fail(StreamErrorCondition::InvalidNamespace, "the stream element is not in " + std::string(ns::kStreams));
            return;
        }
        if (n.local != "stream") {
            fail(StreamErrorCondition::BadFormat, "the root element is <" + n.local + ">, not <stream:stream>");
            return;
        }
        StreamEvent event{.kind = StreamEvent::Kind::Opened, .header = {}, .stanza = {}};
        event.header.contentNs = headerDefaultNs_;
        for (const char** a = attrs; *a != nullptr; a += 2) {
            SplitName an = splitName(a[0]);
            std::string value = a[1];
            if (an.ns == ns::kXml && an.local == "lang") event.header.lang = value;
            if (!an.ns.empty()) continue;
            if (an.local == "from") event.header.from = value;
            if (an.local == "to") event.header.to = value;
            if (an.local == "id") event.header.id = value;
            if (an.local == "version") event.header.version = value;
        }
        events_.push_back(std::move(event));
        opened_ = true;
        depth_ = 1;
        mark_ = expat_->eventEnd();
        return;
    }
    if (depth_ == 1) mark_ = expat_->index();  // a stanza begins
    if (depth_ >= limits_.maxDepth + 1) {
        fail(StreamErrorCondition::PolicyViolation,
             "elements nested deeper than " + std::to_string(limits_.maxDepth));
        return;
    }
    checkBacklog(expat_->eventEnd());
    if (error_) return;
    Element element(std::move(n.local), std::move(n.ns));
    for (const char** a = attrs; *a != nullptr; a += 2) {
        SplitName an = splitName(a[0]);
        element.setAttr(std::move(an.local), a[1], std::move(an.ns));
    }
    if (depth_ == 1) {
        stanza_ = std::move(element);
        open_.assign(1, &stanza_);
    } else {
        open_.push_back(&open_.back()->addChild(std::move(element)));
    }
    ++depth_;
}

void StreamParser::onEnd(const char*) {
    if (error_) return;
    if (depth_ == 1) {
        closed_ = true;
        depth_ = 0;
        events_.push_back(StreamEvent{.kind = StreamEvent::Kind::Closed, .header = {}, .stanza = {}});
        return;
    }
    --depth_;
    open_.pop_back();
    if (depth_ == 1) {
        // An end tag padded with whitespace is part of the stanza too.
        checkBacklog(expat_->eventEnd());
        if (error_) return;
        events_.push_back(StreamEvent{.kind = StreamEvent::Kind::Stanza, .header = {}, .stanza = std::move(stanza_)});
        stanza_ = Element();
        mark_ = expat_->eventEnd();
    }
}

void StreamParser::onText(const char* data, int length) {
    if (error_) return;
    std::string_view text(data, static_cast<std::size_t>(length));
    if (depth_ <= 1) {
        // Between stanzas only whitespace (keep-alives) may come.
        if (!isXmlWhitespace(text)) {
            fail(StreamErrorCondition::BadFormat, "text outside any stanza (at byte " +
                                                      std::to_string(expat_->index()) + ")");
            return;
        }
        mark_ = expat_->eventEnd();
        return;
    }
    checkBacklog(expat_->eventEnd());
    if (error_) return;
    open_.back()->addText(text);
}

}  // namespace mxbridge::xmpp
