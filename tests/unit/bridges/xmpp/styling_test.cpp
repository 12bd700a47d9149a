// Message styling (XEP-0393): the XEP's own examples, read into Matrix HTML, and Matrix HTML
// written as styled bodies.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "mxbridge/xmpp/styling.h"

using mxbridge::xmpp::htmlToStyling;
using mxbridge::xmpp::stylingToHtml;

TEST_CASE("the XEP's span examples are styled as it says, directives kept and styled too") {
    CHECK(stylingToHtml("*strong span*") == "<b>*strong span*</b>");
    CHECK(stylingToHtml("plain _emphasis_ plain") == "plain <i>_emphasis_</i> plain");
    CHECK(stylingToHtml("`pre` plain *strong*") == "<code>`pre`</code> plain <b>*strong*</b>");
    CHECK(stylingToHtml("*strong*plain*") == "<b>*strong*</b>plain*");
    CHECK(stylingToHtml("* plain *strong*") == "* plain <b>*strong*</b>");
    CHECK(stylingToHtml("Everyone ~dis~likes cake.") == "Everyone <del>~dis~</del>likes cake.");
    CHECK(stylingToHtml("This is `*monospace*`") == "This is <code>`*monospace*`</code>");
    CHECK(stylingToHtml("This is *`monospace and bold`*") ==
          "This is <b>*<code>`monospace and bold`</code>*</b>");
    CHECK(stylingToHtml("*_both_*") == "<b>*<i>_both_</i>*</b>");
}

TEST_CASE("what the XEP says styles nothing is sent plain") {
    for (const char* body : {"plain span", "not strong*", "*not strong", "*not \n strong*", "*not *strong", "**",
                             "***", "****", "a * b * c", "snake_case_name", "2*3*4"}) {
        INFO(body);
        CHECK_FALSE(stylingToHtml(body).has_value());
    }
}

TEST_CASE("blocks: preformatted text, quotations nested, plain lines between") {
    CHECK(stylingToHtml("```ignored\n(println \"Hello, world!\")\n```\nThis should show up as monospace") ==
          "<pre><code>(println &quot;Hello, world!&quot;)</code></pre>This should show up as monospace");
    // No closing fence: the block runs to the end of its parent, here the quotation.
    CHECK(stylingToHtml("> ```\n> (println \"Hello, world!\")\nThe entire blockquote is a preformatted text block") ==
          "<blockquote><pre><code>(println &quot;Hello, world!&quot;)</code></pre></blockquote>"
          "The entire blockquote is a preformatted text block");
    CHECK(stylingToHtml("> That that is, is.\nSaid the old hermit of Prague.") ==
          "<blockquote>That that is, is.</blockquote>Said the old hermit of Prague.");
    CHECK(stylingToHtml(">> That that is, is.\n> Said the old hermit of Prague.\nWho?") ==
          "<blockquote><blockquote>That that is, is.</blockquote>Said the old hermit of Prague.</blockquote>Who?");
    CHECK(stylingToHtml("line one\n*two*\r\nthree") == "line one<br><b>*two*</b><br>three");
    // Markup in the text stays text.
    CHECK(stylingToHtml("*<script>alert(1)</script>*") == "<b>*&lt;script&gt;alert(1)&lt;/script&gt;*</b>");
}

TEST_CASE("whitespace of other scripts counts as whitespace around directives") {
    CHECK(stylingToHtml("a\u00A0*b*") == "a\u00A0<b>*b*</b>");
    CHECK(stylingToHtml("a\u3000_b_") == "a\u3000<i>_b_</i>");
    CHECK_FALSE(stylingToHtml("*b\u2003*").has_value());
}

TEST_CASE("a hostile body costs little: no quadratic scans, no deep recursion") {
    std::string openers;
    for (int i = 0; i < 100'000; ++i) openers += " *a";
    std::string quotes(100'000, '>');
    std::string nested;
    for (int i = 0; i < 10'000; ++i) nested += "*_~";
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(stylingToHtml(openers).has_value());
    CHECK(stylingToHtml(quotes + " deep").has_value());
    CHECK(stylingToHtml(nested + "x" + nested).has_value());
    // Generous: the point is that it ends (quadratic work here would take minutes).
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("Matrix HTML becomes a styled body XMPP clients show the same way") {
    CHECK(htmlToStyling("<b>bold</b>, <i>italic</i>, <del>gone</del> and <code>x = 1</code>") ==
          "*bold*, _italic_, ~gone~ and `x = 1`");
    CHECK(htmlToStyling("<strong>bold </strong>text") == "*bold* text");
    CHECK(htmlToStyling("<pre><code class=\"language-cpp\">int main() {\n  return 0;\n}</code></pre>") ==
          "```\nint main() {\n  return 0;\n}\n```");
    CHECK(htmlToStyling("<blockquote><p>quoted</p><blockquote>deeper</blockquote></blockquote><p>reply</p>") ==
          "> quoted\n> > deeper\nreply");
    CHECK(htmlToStyling("<ul><li>one</li><li>two<ol><li>a</li></ol></li></ul>") == "• one\n• two\n  1. a");
    CHECK(htmlToStyling("<h2>Title</h2>text") == "*Title*\ntext");
    CHECK(htmlToStyling("see <a href=\"https://example.org/x\">the page</a> or https://e.org") ==
          "see the page (https://example.org/x) or https://e.org");
    CHECK(htmlToStyling("<a href=\"https://matrix.to/#/@bob:example.org\">Bob</a>: hi") == "Bob: hi");
    CHECK(htmlToStyling("<u>under</u> <b><b>once</b></b>") == "under *once*");
    // What the writer makes reads back as the same styles.
    CHECK(stylingToHtml(htmlToStyling("<strong>bold</strong> and <em>em</em>")) ==
          "<b>*bold*</b> and <i>_em_</i>");
}
