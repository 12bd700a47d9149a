// The lexical layer of the HTML reader: tags, attributes, entities, comments. Private to the
// format library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxbridge::format::detail {

struct Tag {
    std::string name;  // lower-cased
    bool closing = false;
    bool selfClosing = false;  // "<br/>"; only meaningful for void elements
    std::vector<std::pair<std::string, std::string>> attributes;  // keys lower-cased

    // The first attribute named `key`, or nullptr.
    const std::string* attribute(std::string_view key) const;
    std::string attributeOr(std::string_view key, std::string_view fallback = {}) const;
};

// A tag longer than this is text: it bounds the work a run of unterminated tags costs, and
// holds everything HtmlWriter writes (its attribute values are bounded, see html_writer.cpp).
inline constexpr std::size_t kMaxTagBytes = 64 * 1024;

// Parses the tag at html[pos] == '<' into `tag`. Returns its length, or 0 when this '<'
// starts no tag (it is then text).
std::size_t parseTag(std::string_view html, std::size_t pos, Tag& tag);

// The length of the comment, <!DOCTYPE ...> or <?...?> at html[pos] == '<' (to the end of
// the input when unterminated), or 0 when there is none.
std::size_t skipNonElement(std::string_view html, std::size_t pos);

// Decodes the entity at text[pos] == '&' onto `out` and returns the bytes it used, or 0 when
// it is not one (the '&' then stays literal, as browsers keep it).
std::size_t decodeEntity(std::string_view text, std::size_t pos, std::string& out);
std::string decodeEntities(std::string_view text);

bool isHtmlSpace(char c);
char asciiLower(char c);

}  // namespace mxbridge::format::detail
