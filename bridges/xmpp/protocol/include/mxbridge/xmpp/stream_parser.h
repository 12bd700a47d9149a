// Reads an XMPP stream as it arrives, in pieces split anywhere: the stream header opens it,
// each child of <stream:stream> comes out as one complete element tree (a stanza), and
// </stream:stream> closes it. Built on expat with namespace processing, so every element
// knows its namespace URI.
//
// The peer's input is never trusted: what RFC 6120 §11.1 forbids (DOCTYPE and so any
// entity declaration, comments, processing instructions, references to entities other than
// the five predefined ones) stops the stream with restricted-xml; anything but UTF-8 with
// unsupported-encoding or not-well-formed; a stanza larger than the size limit or nested
// deeper than the depth limit with policy-violation. A stopped stream holds at most about a
// stanza's limit of memory, whatever was sent. Billion laughs and external entities cannot
// happen: expat never sees a DTD past its first token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxbridge/xmpp/element.h"
#include "mxbridge/xmpp/stream_error.h"

namespace mxbridge::xmpp {

struct StreamParserLimits {
    // Bytes of one stanza on the wire, from its '<' to the end of its end tag; also caps the
    // stream header and anything waiting between stanzas.
    std::size_t maxStanzaBytes = 512 * 1024;
    // Element nesting inside a stanza; the stanza itself is depth 1.
    std::size_t maxDepth = 32;
};

// The opening <stream:stream>: its attributes and the default namespace it declares (the
// stream's content namespace, "jabber:component:accept" for a component).
struct StreamHeader {
    std::string contentNs;
    std::string from;
    std::string to;
    std::string id;
    std::string version;
    std::string lang;  // xml:lang
};

struct StreamEvent {
    enum class Kind { Opened, Stanza, Closed };
    Kind kind = Kind::Stanza;
    StreamHeader header;  // Opened only
    Element stanza;       // Stanza only
};

class StreamParser {
public:
    explicit StreamParser(StreamParserLimits limits = {});
    ~StreamParser();
    StreamParser(const StreamParser&) = delete;
    StreamParser& operator=(const StreamParser&) = delete;

    // Reads more of the stream. Returns false once the stream is in error (error() says
    // why); from then on it reads nothing more until reset(). Events read before the error
    // stay available from next().
    bool feed(std::string_view bytes);
    // The oldest event not taken yet.
    std::optional<StreamEvent> next();

    const std::optional<StreamError>& error() const { return error_; }
    bool opened() const { return opened_; }
    bool closed() const { return closed_; }
    // Bytes fed since the last reset().
    std::uint64_t bytesRead() const { return consumed_; }
    const StreamParserLimits& limits() const { return limits_; }

    // Forgets everything for a new stream on a new connection.
    void reset();

private:
    struct Expat;
    void fail(StreamErrorCondition condition, std::string text);
    void checkBacklog(std::uint64_t upTo);

    // expat callbacks, reached through static trampolines in the .cpp.
    void onStart(const char* name, const char** attrs);
    void onEnd(const char* name);
    void onText(const char* data, int length);
    void onNamespace(const char* prefix, const char* uri);
    void onXmlDecl(const char* version, const char* encoding);
    void refuse(std::string what);

    StreamParserLimits limits_;
    std::unique_ptr<Expat> expat_;
    std::deque<StreamEvent> events_;
    std::optional<StreamError> error_;
    bool opened_ = false;
    bool closed_ = false;
    std::string headerDefaultNs_;
    std::size_t depth_ = 0;         // open elements, the stream element included
    std::uint64_t consumed_ = 0;    // bytes handed to expat
    std::uint64_t mark_ = 0;        // where the stanza being read (or the gap before it) began
    Element stanza_;                // the stanza being read
    std::vector<Element*> open_;    // its open elements, stanza_ first
};

}  // namespace mxbridge::xmpp
