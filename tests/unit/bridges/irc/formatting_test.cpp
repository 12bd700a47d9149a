// mIRC formatting codes to Matrix HTML, and the code scanner shared with splitting.
#include "mxbridge/irc/formatting.h"

#include <doctest/doctest.h>

using namespace mxbridge::irc;

TEST_CASE("plain IRC text gives a body and no formatted body") {
    auto f = ircToHtml("just <text> & \"quotes\"");
    CHECK(f.plain == "just <text> & \"quotes\"");
    CHECK(f.html.empty());
}

TEST_CASE("bold, italic, underline, strikethrough and monospace become HTML tags") {
    auto f = ircToHtml(
        "\x02"
        "b\x02 \x1Di\x1D \x1Fu\x1F \x1Es\x1E \x11m\x11");
    CHECK(f.plain == "b i u s m");
    CHECK(f.html == "<b>b</b> <i>i</i> <u>u</u> <del>s</del> <code>m</code>");
}

TEST_CASE("HTML special characters are always escaped in the formatted body") {
    auto f = ircToHtml("\x02<script>alert(\"x\")&'</script>");
    CHECK(f.html == "<b>&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;&lt;/script&gt;</b>");
    CHECK(f.plain == "<script>alert(\"x\")&'</script>");
}

TEST_CASE("overlapping toggles still produce properly nested tags") {
    auto f = ircToHtml(
        "\x02"
        "a\x1D"
        "b\x02"
        "c\x1D");
    CHECK(f.html == "<b>a</b><b><i>b</i></b><i>c</i>");
}

TEST_CASE("reset ends all formatting and an unclosed code runs to the end") {
    CHECK(ircToHtml("\x02\x1D"
                    "a\x0F"
                    "b")
              .html == "<b><i>a</i></b>b");
    CHECK(ircToHtml("x\x02"
                    "bold")
              .html == "x<b>bold</b>");
}

TEST_CASE("colour codes map to the mIRC palette with foreground and background") {
    CHECK(ircToHtml("\x03"
                    "4red")
              .html == "<font data-mx-color=\"#ff0000\">red</font>");
    CHECK(ircToHtml("\x03"
                    "04,01x")
              .html == "<font data-mx-color=\"#ff0000\" data-mx-bg-color=\"#000000\">x</font>");
    CHECK(ircToHtml("\x03"
                    "52x")
              .html == "<font data-mx-color=\"#ff0000\">x</font>");
    CHECK(ircToHtml("\x03"
                    "98x")
              .html == "<font data-mx-color=\"#ffffff\">x</font>");
    CHECK(ircToHtml("\x03"
                    "16x")
              .html == "<font data-mx-color=\"#470000\">x</font>");
}

TEST_CASE("a background colour survives a later foreground-only code until a bare colour code") {
    auto f = ircToHtml(
        "\x03"
        "3,5a\x03"
        "8b\x03"
        "c");
    CHECK(f.plain == "abc");
    CHECK(f.html ==
          "<font data-mx-color=\"#009300\" data-mx-bg-color=\"#7f0000\">a</font>"
          "<font data-mx-color=\"#ffff00\" data-mx-bg-color=\"#7f0000\">b</font>c");
}

TEST_CASE("truncated colour codes do not eat text or crash") {
    CHECK(ircToHtml("end\x03").plain == "end");
    CHECK(ircToHtml("\x03"
                    "99,")
              .plain == ",");
    CHECK(ircToHtml("\x03"
                    "99,")
              .html.empty());
    CHECK(ircToHtml("\x03,5x").plain == ",5x");
    CHECK(ircToHtml("\x03"
                    "4,")
              .plain == ",");
    CHECK(ircToHtml("\x03"
                    "123")
              .plain == "3");
    CHECK(ircToHtml("\x04").plain.empty());
    CHECK(ircToHtml("\x04"
                    "12345")
              .plain == "12345");
    CHECK(ircToHtml("\x04"
                    "FF0000,")
              .plain == ",");
}

TEST_CASE("colour 99 means the default colour and produces no font tag") {
    auto f = ircToHtml(
        "\x03"
        "99,99x\x02y");
    CHECK(f.html == "x<b>y</b>");
}

TEST_CASE("hex colour codes keep their exact colour") {
    CHECK(ircToHtml("\x04"
                    "12ab9F,000000x")
              .html == "<font data-mx-color=\"#12ab9f\" data-mx-bg-color=\"#000000\">x</font>");
}

TEST_CASE("reverse swaps colours when there are any and is otherwise dropped") {
    CHECK(ircToHtml("\x03"
                    "4,2\x16x")
              .html == "<font data-mx-color=\"#00007f\" data-mx-bg-color=\"#ff0000\">x</font>");
    CHECK(ircToHtml("\x16x").plain == "x");
}

TEST_CASE("stripping removes every code including colour digits") {
    CHECK(ircStripFormatting("\x02"
                             "a\x03"
                             "04,12b\x03"
                             "c\x04"
                             "FFFFFFd\x0F\x1D\x1E\x1F\x11\x16"
                             "e") == "abcde");
    CHECK(ircStripFormatting("\x03"
                             "1,") == ",");
}

TEST_CASE("applyFormatCode reports code lengths and leaves other bytes alone") {
    FormatState s;
    CHECK(applyFormatCode("a", 0, s) == 0);
    CHECK(applyFormatCode("\x03"
                          "12,34x",
                          0, s) == 6);
    REQUIRE(s.fg);
    CHECK(s.fg->index == 12);
    REQUIRE(s.bg);
    CHECK(s.bg->index == 34);
    CHECK(applyFormatCode("\x03", 0, s) == 1);
    CHECK_FALSE(s.fg);
    CHECK(applyFormatCode("\x04"
                          "abcdef,012345",
                          0, s) == 14);
    CHECK(applyFormatCode("x", 5, s) == 0);
}

TEST_CASE("a format state's codes recreate it, and text after them cannot extend the colour") {
    FormatState s;
    s.bold = true;
    s.fg = IrcColour{4, 0xff0000};
    CHECK(s.toIrcCodes() ==
          "\x03"
          "04\x02");
    FormatState colourOnly;
    colourOnly.fg = IrcColour{4, 0xff0000};
    std::string codes = colourOnly.toIrcCodes();
    CHECK(codes ==
          "\x03"
          "04\x02\x02");
    FormatState parsed;
    std::string text = codes + ",5";
    std::size_t i = 0;
    while (std::size_t n = applyFormatCode(text, i, parsed)) i += n;
    CHECK(parsed == colourOnly);
    CHECK(text.substr(i) == ",5");
    CHECK(FormatState{}.toIrcCodes().empty());
}

TEST_CASE("nearest colour prefers exact palette matches and falls back to the 16 classic colours") {
    CHECK(nearestMircColour(0xff0000) == 4);
    CHECK(nearestMircColour(0x470000) == 16);
    CHECK(nearestMircColour(0xfe0101) == 4);
    CHECK(nearestMircColour(0x000001) == 1);
    CHECK(mircColourRgb(99) == std::nullopt);
    CHECK(mircColourRgb(-1) == std::nullopt);
    CHECK(mircColourRgb(98) == 0xffffffu);
}

TEST_CASE("HTML colours parse in short and long forms") {
    CHECK(parseHtmlColour("#fff") == 0xffffffu);
    CHECK(parseHtmlColour("#12AB9f") == 0x12ab9fu);
    CHECK(parseHtmlColour("12ab9f") == 0x12ab9fu);
    CHECK_FALSE(parseHtmlColour("red"));
    CHECK_FALSE(parseHtmlColour("#12345"));
    CHECK_FALSE(parseHtmlColour(""));
}

TEST_CASE("a huge line of codes converts in bounded output") {
    std::string s;
    for (int i = 0; i < 20000; ++i)
        s += "\x03"
             "4,5\x02x";
    auto f = ircToHtml(s);
    CHECK(f.plain == std::string(20000, 'x'));
    CHECK(f.html.size() < s.size() * 20);
}
