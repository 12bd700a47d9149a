// The Matrix HTML reader: the spec's examples, every element it reports, and hostile HTML.
#include <doctest/doctest.h>

#include "mxbridge/format/html_reader.h"
#include "trace_visitor.h"

using mxbridge::format::test::traceOf;

TEST_CASE("the spec's example messages are read as their styled text") {
    CHECK(traceOf("<b>This is an example text message</b>") == "<b>\"This is an example text message\"</b>");
    CHECK(traceOf("This is an <strong>example</strong> notice") ==
          "\"This is an \"<b>\"example\"</b>\" notice\"");
    CHECK(traceOf("Hello <a href='https://matrix.to/#/@alice:example.org'>Alice</a>!") ==
          "\"Hello \"<a https://matrix.to/#/@alice:example.org pill=@alice:example.org>\"Alice\"</a>\"!\"");
}

TEST_CASE("every inline style tag is reported as its style") {
    CHECK(traceOf("<b>1</b><strong>2</strong><i>3</i><em>4</em><u>5</u><ins>6</ins>") ==
          "<b>\"1\"</b><b>\"2\"</b><i>\"3\"</i><i>\"4\"</i><u>\"5\"</u><u>\"6\"</u>");
    CHECK(traceOf("<del>1</del><s>2</s><strike>3</strike><code>4</code><sup>5</sup><sub>6</sub>") ==
          "<s>\"1\"</s><s>\"2\"</s><s>\"3\"</s><code>\"4\"</code><sup>\"5\"</sup><sub>\"6\"</sub>");
}

TEST_CASE("the spec's spoiler examples are spoilers with and without a reason") {
    CHECK(traceOf("Alice <span data-mx-spoiler>lived happily ever after</span> in the movie.") ==
          "\"Alice \"<spoiler >\"lived happily ever after\"</spoiler>\" in the movie.\"");
    CHECK(traceOf("<span data-mx-spoiler='health of alice'>lived</span>") ==
          "<spoiler health of alice>\"lived\"</spoiler>");
}

TEST_CASE("colours come from data-mx-color, data-mx-bg-color and the older font color") {
    CHECK(traceOf("<span data-mx-color=\"#ff0000\" data-mx-bg-color=\"#00FF00\">x</span>") ==
          "<colour fg=16711680 bg=65280>\"x\"</colour>");
    CHECK(traceOf("<font color=\"#00f\">x</font>") == "<colour fg=255>\"x\"</colour>");
    CHECK(traceOf("<span data-mx-color=\"red\">x</span>") == "\"x\"");
    CHECK(traceOf("<span data-mx-spoiler data-mx-color=\"#000000\">x</span>") ==
          "<spoiler ><colour fg=0>\"x\"</colour></spoiler>");
}

TEST_CASE("a pre block carries the language of the code element inside it") {
    CHECK(traceOf("<pre><code class=\"language-rust\">fn main() {\n    x();\n}\n</code></pre>") ==
          "<pre rust>\"fn main() {\n    x();\n}\n\"</pre>");
    CHECK(traceOf("<pre>\n<code class=\"hljs language-c++\">x</code></pre>") == "<pre c++>\"x\"</pre>");
    CHECK(traceOf("<pre>plain\r\nlines\rhere</pre>") == "<pre >\"plain\nlines\nhere\"</pre>");
    CHECK(traceOf("<pre><code class=\"language-a&quot;><script>\">x</code></pre>") == "<pre >\"x\"</pre>");
    CHECK(traceOf("<code>inline</code>") == "<code>\"inline\"</code>");
}

TEST_CASE("lists report their kind, start, depth and each item's number") {
    CHECK(traceOf("<ol start=\"3\"><li>a</li><li>b</li></ol>") ==
          "<ol 3 d1><li #3 d1>\"a\"</li><li #4 d1>\"b\"</li></ol>");
    CHECK(traceOf("<ul><li>a<ol><li>b</li></ol></li></ul>") ==
          "<ul 1 d1><li *1 d1>\"a\"<ol 1 d2><li #1 d2>\"b\"</li></ol></li></ul>");
    CHECK(traceOf("<ol start=\"-2\"><li>x</li></ol>") == "<ol 1 d1><li #1 d1>\"x\"</li></ol>");
    CHECK(traceOf("<li>stray") == "<li *1 d0>\"stray\"</li>");
}

TEST_CASE("quotes, headings, paragraphs, rules and line breaks are reported in order") {
    CHECK(traceOf("<blockquote><p>q</p></blockquote><h3>T</h3>a<br>b<hr>") ==
          "<quote><block0>\"q\"</block0></quote><h3>\"T\"</h3>\"a\"<br>\"b\"<hr>");
    CHECK(traceOf("a</p>b</br>c") == "\"a\"<br>\"b\"<br>\"c\"");
    CHECK(traceOf("<p/>x") == "<block0></block0>\"x\"");
}

TEST_CASE("links carry their cleaned href, and pills what they point at") {
    CHECK(traceOf("<a href=\"https://x.y/&#10;QUIT\">t</a>") == "<a https://x.y/QUIT>\"t\"</a>");
    CHECK(traceOf("<a href=\"matrix:r/somewhere:example.org\">#somewhere</a>") ==
          "<a matrix:r/somewhere:example.org pill=#somewhere:example.org>\"#somewhere\"</a>");
    CHECK(traceOf("<a href=\"https://matrix.to/#/!r:e.org/$ev?via=e.org\">l</a>") ==
          "<a https://matrix.to/#/!r:e.org/$ev?via=e.org pill=!r:e.org$ev>\"l\"</a>");
    CHECK(traceOf("<a name=\"anchor\">no href</a>") == "\"no href\"");
}

TEST_CASE("custom emotes are images with their alt text") {
    CHECK(traceOf("<img data-mx-emoticon src=\"mxc://example.org/abc123\" alt=\"a waving cat\" "
                  "title=\"cat_wave\" height=\"32\" />") ==
          "<img mxc://example.org/abc123 alt=a waving cat emoticon>");
}

TEST_CASE("whitespace collapses to one space outside code blocks") {
    CHECK(traceOf("  a \n\t b  ") == "\" a b \"");
    CHECK(traceOf("a&nbsp;&nbsp;b") == "\"a\xC2\xA0\xC2\xA0" "b\"");
}

TEST_CASE("entities are decoded, unknown ones and a bare ampersand kept") {
    CHECK(traceOf("&amp;&lt;&gt;&quot;&#39;&apos;&hellip;&#x1F389;") == "\"&<>\"''\xE2\x80\xA6\xF0\x9F\x8E\x89\"");
    CHECK(traceOf("&bogus; &amp &#xZZ; &#;") == "\"&bogus; &amp &#xZZ; &#;\"");
    CHECK(traceOf("a&#2;&#3;&#13;&#127;b&#0;") == "\"ab\xEF\xBF\xBD\"");
}

TEST_CASE("unclosed and misnested tags are closed so every begin has its end") {
    CHECK(traceOf("<b>bold <i>both</b> after") == "<b>\"bold \"<i>\"both\"</i></b>\" after\"");
    CHECK(traceOf("<b><i><u>deep") == "<b><i><u>\"deep\"</u></i></b>");
    CHECK(traceOf("</b></i>text</a>") == "\"text\"");
    CHECK(traceOf("<marquee><b>x</marquee>y") == "<b>\"x\"</b>\"y\"");
}

TEST_CASE("a '<' that starts no tag is text, and unquoted attributes are read") {
    CHECK(traceOf("a < b > c") == "\"a \"\"< b > c\"");
    CHECK(traceOf("x <b") == "\"x \"\"<b\"");
    CHECK(traceOf("<<<>>>") == "\"<\"\"<\"\"<>>>\"");
    CHECK(traceOf("<a href=https://e.org/x>l</a>") == "<a https://e.org/x>\"l\"</a>");
    CHECK(traceOf("<A HREF = 'https://e.org'>l</A>") == "<a https://e.org>\"l\"</a>");
    CHECK(traceOf("<a href=\"https://e.org/?a>b\">l</a>") == "<a https://e.org/?a>b>\"l\"</a>");
}

TEST_CASE("scripts, styles and reply fallbacks are dropped with their content") {
    CHECK(traceOf("<script>alert(1)</script><style>p{}</style>ok") == "\"ok\"");
    CHECK(traceOf("<mx-reply><blockquote>In reply to <mx-reply>inner</mx-reply> quoted</blockquote>"
                  "</mx-reply>my answer") == "\"my answer\"");
    CHECK(traceOf("<SCRIPT>never closed <b>x</b>") == "");
    CHECK(traceOf("<!-- c --><!DOCTYPE html><?php x ?>t<!-- open") == "\"t\"");
}

TEST_CASE("nesting deeper than the limit keeps its text without more elements") {
    std::string deep;
    for (int i = 0; i < 1000; ++i) deep += "<b>";
    deep += "x";
    mxbridge::format::HtmlReaderOptions options{.maxDepth = 3};
    CHECK(traceOf(deep, options) == "<b><b><b>\"x\"</b></b></b>");
    std::string trace = traceOf(deep);
    CHECK(trace.find("\"x\"") != std::string::npos);
    std::size_t opened = 0;
    for (std::size_t p = trace.find("<b>"); p != std::string::npos; p = trace.find("<b>", p + 1)) ++opened;
    CHECK(opened == 100);
}

TEST_CASE("huge runs of broken markup are read in linear time") {
    std::string amps(200000, '&');
    CHECK(traceOf(amps).size() == amps.size() + 2);
    std::string tags;
    for (int i = 0; i < 20000; ++i) tags += "<a b=";
    CHECK(!traceOf(tags).empty());
}
