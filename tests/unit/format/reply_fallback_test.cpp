// Reply fallbacks (spec: "Rich replies"): what is stripped, and what is left alone.
#include <doctest/doctest.h>

#include "mxbridge/format/reply_fallback.h"

using namespace mxbridge::format;

TEST_CASE("a leading mx-reply element is removed, nested ones with it") {
    CHECK(stripHtmlReplyFallback("<mx-reply><blockquote><a href=\"https://matrix.to/#/!r:e.org/$e\">In reply "
                                 "to</a> <a href=\"https://matrix.to/#/@a:e.org\">@a:e.org</a><br>orig"
                                 "</blockquote></mx-reply>That sounds like a great idea!") ==
          "That sounds like a great idea!");
    CHECK(stripHtmlReplyFallback("  <MX-REPLY>a<mx-reply>b</mx-reply>c</mx-reply>answer") == "answer");
    CHECK(stripHtmlReplyFallback("<mx-reply><!-- </mx-reply> -->q</mx-reply>a") == "a");
}

TEST_CASE("HTML that does not begin with mx-reply is left as it is") {
    CHECK(stripHtmlReplyFallback("answer <mx-reply>q</mx-reply>") == "answer <mx-reply>q</mx-reply>");
    CHECK(stripHtmlReplyFallback("<mx-reply/>answer") == "<mx-reply/>answer");
    CHECK(stripHtmlReplyFallback("") == "");
}

TEST_CASE("a message whose mx-reply never closes is bridged whole, not deleted") {
    CHECK(stripHtmlReplyFallback("<mx-reply>quoted and then nothing") == "<mx-reply>quoted and then nothing");
    CHECK(stripHtmlReplyFallback("<mx-reply>q<b>bold</b> answer") == "<mx-reply>q<b>bold</b> answer");
    CHECK(stripHtmlReplyFallback("<mx-reply>a<mx-reply>b</mx-reply>c") == "<mx-reply>a<mx-reply>b</mx-reply>c");
}

TEST_CASE("the plain-text fallback's quoted lines and the blank line after them are removed") {
    CHECK(stripPlainReplyFallback("> <@alice:example.org> This is the original body\n\nThis is where the reply goes") ==
          "This is where the reply goes");
    CHECK(stripPlainReplyFallback("> <@a:e.org> line one\n> line two\n>\n\nreply\n> not a fallback") ==
          "reply\n> not a fallback");
    CHECK(stripPlainReplyFallback("> <@a:e.org> q\nreply right after") == "reply right after");
}

TEST_CASE("a body that is only a quote or has none is left as it is") {
    CHECK(stripPlainReplyFallback("> just a quote") == "> just a quote");
    CHECK(stripPlainReplyFallback("> a quote\n> and more\n") == "> a quote\n> and more\n");
    CHECK(stripPlainReplyFallback("no quote\n> later") == "no quote\n> later");
    CHECK(stripPlainReplyFallback(">no space is not the prefix\nx") == ">no space is not the prefix\nx");
    CHECK(stripPlainReplyFallback("") == "");
}
