// Matrix HTML to IRC text, with malformed and hostile HTML.
#include <doctest/doctest.h>

#include "mxbridge/irc/formatting.h"
#include "mxbridge/irc/text_encoding.h"

using namespace mxbridge::irc;

TEST_CASE("inline formatting tags become mIRC toggles") {
    CHECK(htmlToIrc("<b>b</b> <strong>s</strong>") ==
          "\x02"
          "b\x02 \x02s\x02");
    CHECK(htmlToIrc("<i>i</i><em>e</em>") ==
          "\x1Di\x1D\x1D"
          "e\x1D");
    CHECK(htmlToIrc("<u>u</u>") == "\x1Fu\x1F");
    CHECK(htmlToIrc("<del>d</del><s>s</s><strike>t</strike>") ==
          "\x1E"
          "d\x1E\x1Es\x1E\x1Et\x1E");
    CHECK(htmlToIrc("<code>x()</code>") == "\x11x()\x11");
}

TEST_CASE("nested identical tags toggle only at the outermost level") {
    CHECK(htmlToIrc("<b>a<strong>b</strong>c</b>") ==
          "\x02"
          "abc\x02");
}

TEST_CASE("unclosed and mismatched tags never crash and keep all text") {
    CHECK(ircStripFormatting(htmlToIrc("<b>bold <i>both</b> after")) == "bold both after");
    CHECK(ircStripFormatting(htmlToIrc("<b><i><u>deep")) == "deep");
    CHECK(htmlToIrc("</b></i>text</a>") == "text");
    CHECK(htmlToIrc("a < b > c") == "a < b > c");
    CHECK(htmlToIrc("x <b") == "x <b");
    CHECK(htmlToIrc("<a href=\"unterminated>x") == "<a href=\"unterminated>x");
    CHECK(htmlToIrc("<") == "<");
    CHECK(htmlToIrc("<<<>>>") == "<<<>>>");
    CHECK(htmlToIrc("") == "");
}

TEST_CASE("entities are decoded, unknown ones kept literally") {
    CHECK(htmlToIrc("&amp; &lt; &gt; &quot; &#39; &apos;") == "& < > \" ' '");
    CHECK(htmlToIrc("&#233;&#xE9;&#x1F389;") == "éé🎉");
    CHECK(htmlToIrc("a&nbsp;&nbsp;b") == "a  b");
    CHECK(htmlToIrc("&bogus; &amp &#xZZ; &#;") == "&bogus; &amp &#xZZ; &#;");
    CHECK(htmlToIrc("&#0;&#xD800;&#99999999;") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("entities for control characters cannot add formatting or line breaks") {
    CHECK(htmlToIrc("a&#3;4b&#13;&#2;") == "a4b");
}

TEST_CASE("line-level elements produce one IRC line each") {
    CHECK(htmlToIrc("a<br>b<br/>c") == "a\nb\nc");
    CHECK(htmlToIrc("<p>one</p><p>two</p>") == "one\ntwo");
    CHECK(htmlToIrc("<div>x</div>y") == "x\ny");
    CHECK(htmlToIrc("<h1>Title</h1>body") == "\x02Title\x02\nbody");
}

TEST_CASE("whitespace collapses outside pre and is kept inside it") {
    CHECK(htmlToIrc("  a \n\t b  ") == "a b");
    CHECK(htmlToIrc("<pre><code>int x;\n  y = 1;\n</code></pre>") == "\x11int x;\n  y = 1;");
}

TEST_CASE("blockquotes prefix each of their lines") {
    CHECK(htmlToIrc("<blockquote>quoted<br>two</blockquote>reply") == "> quoted\n> two\nreply");
    CHECK(htmlToIrc("<blockquote><blockquote>deep</blockquote></blockquote>") == "> > deep");
}

TEST_CASE("lists become bullet and numbered lines") {
    CHECK(htmlToIrc("<ul><li>a</li><li>b</li></ul>") == "* a\n* b");
    CHECK(htmlToIrc("<ol><li>a</li><li>b</li></ol>") == "1. a\n2. b");
    CHECK(htmlToIrc("<ol start=\"5\"><li>x</li></ol>") == "5. x");
    CHECK(htmlToIrc("<ul><li>a<ul><li>b</li></ul></li></ul>") == "* a\n  * b");
    CHECK(htmlToIrc("<li>stray") == "* stray");
}

TEST_CASE("links show their target unless the text already is the target") {
    CHECK(htmlToIrc("<a href=\"https://example.org\">site</a>") == "site (https://example.org)");
    CHECK(htmlToIrc("<a href=\"https://example.org\">https://example.org</a>") ==
          "https://example.org");
    CHECK(htmlToIrc("<a href='https://example.org'>example.org</a>") == "example.org");
    CHECK(htmlToIrc("<a href=\"mailto:a@b.c\">a@b.c</a>") == "a@b.c");
    CHECK(htmlToIrc("<a href=\"https://x.y/\"></a>") == "https://x.y/");
    CHECK(htmlToIrc("<a>no href</a>") == "no href");
}

TEST_CASE("a link target cannot carry line breaks onto IRC") {
    CHECK(htmlToIrc("<a href=\"https://x.y/&#10;QUIT\">t</a>") == "t (https://x.y/QUIT)");
}

TEST_CASE("Matrix pills keep only the display name") {
    CHECK(htmlToIrc("<a href=\"https://matrix.to/#/@bob:example.org\">Bob</a>: hi") == "Bob: hi");
}

TEST_CASE("a reply fallback is dropped entirely, nested or not") {
    CHECK(
        htmlToIrc("<mx-reply><blockquote><a href=\"x\">In reply to</a> <mx-reply>inner</mx-reply> "
                  "quoted</blockquote></mx-reply>my answer") == "my answer");
    CHECK(htmlToIrc("<mx-reply>never closed") == "");
    CHECK(htmlToIrc("<script>alert(1)</script><style>p{}</style>ok") == "ok");
}

TEST_CASE("font and span colours map to the nearest mIRC colour") {
    CHECK(htmlToIrc("<font data-mx-color=\"#ff0000\">red</font> plain") ==
          "\x03"
          "04red\x03 plain");
    CHECK(htmlToIrc("<span data-mx-color=\"#fe0000\" data-mx-bg-color=\"#000000\">x</span>") ==
          "\x03"
          "04,01x\x03");
    CHECK(htmlToIrc("<font color=\"#00ff00\">g</font>") ==
          "\x03"
          "56g\x03");
    CHECK(htmlToIrc("<span data-mx-bg-color=\"#0000fc\">bg</span>") ==
          "\x03"
          "99,12bg\x03");
    CHECK(htmlToIrc("<font data-mx-color=\"not a colour\">x</font>") == "x");
}

TEST_CASE("nested colours restore the outer colour when the inner one closes") {
    CHECK(htmlToIrc("<font color=\"#ff0000\">a<font color=\"#0000fc\">b</font>c</font>") ==
          "\x03"
          "04a\x03"
          "12b\x03"
          "04c\x03");
}

TEST_CASE("text starting with digits after a colour code is not swallowed by it") {
    std::string irc = htmlToIrc("<font color=\"#ff0000\">1</font>,2 and 3");
    CHECK(ircStripFormatting(irc) == "1,2 and 3");
    CHECK(ircToHtml(irc).plain == "1,2 and 3");
}

TEST_CASE("unknown tags are dropped keeping their text, comments vanish") {
    CHECK(htmlToIrc("<marquee>moving</marquee> <!-- secret --> <custom-tag x=1/>t") == "moving t");
    CHECK(htmlToIrc("<img src=\"mxc://a/b\" alt=\":party:\"> yay") == ":party: yay");
    CHECK(htmlToIrc("<!DOCTYPE html><p>x</p>") == "x");
    CHECK(htmlToIrc("<!-- unterminated comment") == "");
}

TEST_CASE("attribute values with '>' inside quotes do not end the tag") {
    CHECK(htmlToIrc("<a href=\"https://e.org/?a>b\">l</a>") == "l (https://e.org/?a>b)");
}

TEST_CASE("deeply nested or huge HTML stays bounded and valid UTF-8") {
    std::string deep;
    for (int i = 0; i < 5000; ++i) deep += "<blockquote><b><font color=\"#ff0000\">";
    deep += "x";
    for (int i = 0; i < 100; ++i) deep += "<br>";
    std::string out = htmlToIrc(deep);
    CHECK(out.size() < deep.size());
    CHECK(isValidUtf8(out));

    std::string wide;
    for (int i = 0; i < 20000; ++i) wide += "<li>item &amp; <a href=\"https://e.org\">l</a></li>";
    CHECK(htmlToIrc(wide).size() < wide.size() * 2);
}

TEST_CASE("round trip through ircToHtml and htmlToIrc keeps text and styles") {
    std::string irc =
        "\x02"
        "bold\x02 and \x1Ditalic\x1D and \x03"
        "04red\x03";
    auto f = ircToHtml(irc);
    std::string back = htmlToIrc(f.html);
    CHECK(ircStripFormatting(back) == "bold and italic and red");
    CHECK(ircToHtml(back).html == f.html);
}

TEST_CASE("matrix: URI pills keep only the display name, like matrix.to ones") {
    CHECK(htmlToIrc("<a href=\"matrix:u/alice:example.org\">Alice</a>: hi") == "Alice: hi");
}

TEST_CASE("the line feed right after <pre> adds no empty line") {
    CHECK(htmlToIrc("a<pre>\nline</pre>") == "a\n\x11line\x11");
}

TEST_CASE("common named entities such as &hellip; and &mdash; are decoded") {
    CHECK(htmlToIrc("wait&hellip; &mdash; ok") == "wait\xE2\x80\xA6 \xE2\x80\x94 ok");
}

TEST_CASE("a link whose href has spaces around '=' still shows its target") {
    CHECK(htmlToIrc("<a href = \"https://e.org\">x</a>") == "x (https://e.org)");
}
