// Reply fallbacks (spec: "Rich replies"). Since v1.13 clients no longer send them, but must
// still remove those older clients and bridges send before showing a reply.
#pragma once

#include <string>
#include <string_view>

namespace mxbridge::format {

// When `html` begins (after whitespace) with an <mx-reply> element, returns the HTML without
// it, nested <mx-reply> elements included; an <mx-reply> never closed runs to the end.
// Anything else is returned unchanged.
std::string stripHtmlReplyFallback(std::string_view html);

// Removes the leading lines that start with "> " (or are just ">"), and the one empty line
// that follows them. A body that is nothing but such lines is returned unchanged: then it is
// a quote the sender wrote, not a fallback, and dropping it would lose the message.
std::string stripPlainReplyFallback(std::string_view body);

}  // namespace mxbridge::format
