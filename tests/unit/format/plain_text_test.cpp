// Matrix HTML as plain text with a network's light markup (htmlToPlainText).
#include <doctest/doctest.h>

#include "mxbridge/format/plain_text.h"

using namespace mxbridge::format;

TEST_CASE("without markup, styles vanish and the structure stays readable") {
    PlainTextMarkup none;
    CHECK(htmlToPlainText("<p>one</p><p>two <b>bold</b></p>", none) == "one\ntwo bold");
    CHECK(htmlToPlainText("<blockquote>a<br>b</blockquote>after", none) == "> a\n> b\nafter");
    CHECK(htmlToPlainText("<ol start=\"3\"><li>c</li><li>d</li></ol>", none) == "3. c\n4. d");
    CHECK(htmlToPlainText("<pre><code>  keep   spaces\n\n  and lines</code></pre>", none) ==
          "  keep   spaces\n\n  and lines");
    CHECK(htmlToPlainText("a&nbsp;&nbsp;<br><br>", none) == "a");
    CHECK(htmlToPlainText("<img src=\"mxc://e.org/x\" alt=\":party:\"> yes", none) == ":party: yes");
    CHECK(htmlToPlainText("<a href=\"mailto:a@b.c\">a@b.c</a> <a href=\"https://e.org\"></a>", none) ==
          "a@b.c https://e.org");
}

TEST_CASE("a network's markers wrap styles and code blocks; closing markers hug their text") {
    PlainTextMarkup markup{.style = [](Style s) { return s == Style::Bold ? std::string("**") : std::string(); },
                           .codeFence = [](const CodeBlock& b, bool opening) {
                               return opening ? "~~~" + b.language : std::string("~~~");
                           },
                           .quotePrefix = "| "};
    CHECK(htmlToPlainText("a <b>bold </b>word", markup) == "a **bold** word");
    CHECK(htmlToPlainText("<b>x<strong>y</strong></b>", markup) == "**xy**");
    CHECK(htmlToPlainText("<blockquote><pre><code class=\"language-py\">x = 1</code></pre></blockquote>", markup) ==
          "| ~~~py\n| x = 1\n| ~~~");
}
