#include "mxbridge/xmpp/element.h"

#include <algorithm>

namespace mxbridge::xmpp {

Node::Node(Element element) : element_(std::make_unique<Element>(std::move(element))) {}

Node::Node(const Node& other)
    : text_(other.text_),
      element_(other.element_ ? std::make_unique<Element>(*other.element_) : nullptr) {}

Node& Node::operator=(const Node& other) {
    if (this != &other) {
        Node copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Node::~Node() = default;

bool operator==(const Node& a, const Node& b) {
    if (a.isText() != b.isText()) return false;
    return a.isText() ? a.text() == b.text() : a.element() == b.element();
}

bool operator==(const Attribute& a, const Attribute& b) {
    return a.name == b.name && a.value == b.value && a.ns == b.ns;
}

bool operator==(const Element& a, const Element& b) {
    if (a.name_ != b.name_ || a.ns_ != b.ns_ || a.nodes_ != b.nodes_) return false;
    // Attribute order carries no meaning in XML.
    if (a.attributes_.size() != b.attributes_.size()) return false;
    return std::all_of(a.attributes_.begin(), a.attributes_.end(), [&](const Attribute& x) {
        auto v = b.attr(x.name, x.ns);
        return v && *v == x.value;
    });
}

std::optional<std::string_view> Element::attr(std::string_view name, std::string_view ns) const {
    for (const auto& a : attributes_)
        if (a.name == name && a.ns == ns) return std::string_view(a.value);
    return std::nullopt;
}

std::string_view Element::attrOr(std::string_view name, std::string_view fallback) const {
    auto value = attr(name);
    return value ? *value : fallback;
}

Element& Element::setAttr(std::string name, std::string value, std::string ns) {
    for (auto& a : attributes_)
        if (a.name == name && a.ns == ns) {
            a.value = std::move(value);
            return *this;
        }
    attributes_.push_back(Attribute{.name = std::move(name), .value = std::move(value), .ns = std::move(ns)});
    return *this;
}

void Element::removeAttr(std::string_view name, std::string_view ns) {
    std::erase_if(attributes_, [&](const Attribute& a) { return a.name == name && a.ns == ns; });
}

const Element* Element::child(std::string_view name, std::string_view ns) const {
    for (const auto& n : nodes_)
        if (!n.isText() && n.element().is(name, ns)) return &n.element();
    return nullptr;
}

Element* Element::child(std::string_view name, std::string_view ns) {
    for (auto& n : nodes_)
        if (!n.isText() && n.element().is(name, ns)) return &n.element();
    return nullptr;
}

std::vector<const Element*> Element::children(std::string_view name, std::string_view ns) const {
    std::vector<const Element*> out;
    for (const auto& n : nodes_)
        if (!n.isText() && n.element().is(name, ns)) out.push_back(&n.element());
    return out;
}

std::vector<const Element*> Element::elements() const {
    std::vector<const Element*> out;
    for (const auto& n : nodes_)
        if (!n.isText()) out.push_back(&n.element());
    return out;
}

std::string Element::text() const {
    std::string out;
    for (const auto& n : nodes_)
        if (n.isText()) out += n.text();
    return out;
}

std::optional<std::string> Element::childText(std::string_view name, std::string_view ns) const {
    const Element* c = child(name, ns);
    if (c == nullptr) return std::nullopt;
    return c->text();
}

Element& Element::addChild(Element child) {
    nodes_.emplace_back(std::move(child));
    return nodes_.back().element();
}

Element& Element::addText(std::string_view text) {
    if (text.empty()) return *this;
    if (!nodes_.empty() && nodes_.back().isText()) {
        nodes_.back().appendText(text);
    } else {
        nodes_.emplace_back(std::string(text));
    }
    return *this;
}

Element& Element::setText(std::string_view text) {
    nodes_.clear();
    return addText(text);
}

std::size_t Element::approximateSize() const {
    std::size_t size = sizeof(Element) + name_.size() + ns_.size();
    for (const auto& a : attributes_) size += sizeof(Attribute) + a.name.size() + a.value.size() + a.ns.size();
    for (const auto& n : nodes_)
        size += sizeof(Node) + (n.isText() ? n.text().size() : n.element().approximateSize());
    return size;
}

}  // namespace mxbridge::xmpp
