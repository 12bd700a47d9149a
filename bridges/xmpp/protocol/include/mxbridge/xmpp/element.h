// An XML element as XMPP uses it: a stanza or one of its children. Names are resolved: each
// element knows its namespace URI and local name, never a prefix, so `<x:body xmlns:x='…'>`
// and `<body xmlns='…'>` are the same element. Children keep their order, text and elements
// interleaved (XHTML-IM needs mixed content). A value type: copies are deep.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxbridge::xmpp {

struct Attribute {
    std::string name;   // local name
    std::string value;  // unescaped
    std::string ns;     // empty for an unprefixed attribute (the usual case)
};

class Element;

// One child of an element: a run of text or an element.
class Node {
public:
    explicit Node(std::string text) : text_(std::move(text)) {}
    explicit Node(Element element);
    Node(const Node& other);
    Node& operator=(const Node& other);
    Node(Node&&) noexcept = default;
    Node& operator=(Node&&) noexcept = default;
    ~Node();

    bool isText() const { return element_ == nullptr; }
    // Text of a text node; empty for an element.
    const std::string& text() const { return text_; }
    // Only for an element node (isText() false).
    const Element& element() const { return *element_; }
    Element& element() { return *element_; }
    // Only for a text node.
    void appendText(std::string_view more) { text_ += more; }

private:
    std::string text_;
    std::unique_ptr<Element> element_;
};

class Element {
public:
    Element() = default;
    Element(std::string name, std::string ns) : name_(std::move(name)), ns_(std::move(ns)) {}

    const std::string& name() const { return name_; }
    const std::string& xmlns() const { return ns_; }
    bool is(std::string_view name, std::string_view ns) const { return name_ == name && ns_ == ns; }

    // The attribute's value; nullopt when absent. `ns` empty: an unprefixed attribute.
    std::optional<std::string_view> attr(std::string_view name, std::string_view ns = {}) const;
    // The attribute's value, or "" when absent.
    std::string_view attrOr(std::string_view name, std::string_view fallback = {}) const;
    const std::vector<Attribute>& attributes() const { return attributes_; }
    // Sets (replacing) an attribute; returns *this for chaining.
    Element& setAttr(std::string name, std::string value, std::string ns = {});
    void removeAttr(std::string_view name, std::string_view ns = {});

    // The first child element with this local name and namespace, or nullptr.
    const Element* child(std::string_view name, std::string_view ns) const;
    Element* child(std::string_view name, std::string_view ns);
    // Every child element with this name and namespace, in order.
    std::vector<const Element*> children(std::string_view name, std::string_view ns) const;
    // Every child element, in order (text left out).
    std::vector<const Element*> elements() const;
    const std::vector<Node>& nodes() const { return nodes_; }

    // The element's own text: its text children concatenated (not its descendants').
    std::string text() const;
    // The text of child(name, ns), or nullopt when there is no such child.
    std::optional<std::string> childText(std::string_view name, std::string_view ns) const;

    // Appends a child element and returns it (for building nested stanzas).
    Element& addChild(Element child);
    Element& addChild(std::string name, std::string ns) { return addChild(Element(std::move(name), std::move(ns))); }
    // Appends text (merged with a text node just before it); returns *this.
    Element& addText(std::string_view text);
    // Replaces every child with this text.
    Element& setText(std::string_view text);

    // Bytes of names, values and text held, for size accounting.
    std::size_t approximateSize() const;

    friend bool operator==(const Element& a, const Element& b);

private:
    std::string name_;
    std::string ns_;
    std::vector<Attribute> attributes_;
    std::vector<Node> nodes_;
};

bool operator==(const Node& a, const Node& b);
bool operator==(const Attribute& a, const Attribute& b);

}  // namespace mxbridge::xmpp
