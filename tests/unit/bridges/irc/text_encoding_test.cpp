// decodeIrcText and the UTF-8 helpers.
#include "mxbridge/irc/text_encoding.h"

#include <doctest/doctest.h>

using namespace mxbridge::irc;

TEST_CASE("valid UTF-8 from IRC passes through unchanged") {
    std::string s = "héllo wörld – 🎉 日本";
    CHECK(isValidUtf8(s));
    CHECK(decodeIrcText(s) == s);
    CHECK(decodeIrcText("") == "");
}

TEST_CASE("latin-1 bytes from old clients become the same characters in UTF-8") {
    CHECK(decodeIrcText("caf\xE9") == "café");
    CHECK(decodeIrcText("\xC0 la mode, na\xEFve") == "À la mode, naïve");
    CHECK(decodeIrcText("\xFF") == "ÿ");
}

TEST_CASE("CP1252 punctuation in 0x80-0x9F is decoded as Windows clients meant it") {
    CHECK(decodeIrcText("\x93quoted\x94 \x80"
                        "5 \x85") == "“quoted” €5 …");
    // Undefined CP1252 slots keep their latin-1 (C1 control) meaning.
    CHECK(decodeIrcText("\x81") == "\xC2\x81");
}

TEST_CASE("a line mixing UTF-8 and latin-1 is decoded entirely as latin-1") {
    CHECK(decodeIrcText("\xC3\xA9 \xE9") == "Ã© é");
}

TEST_CASE("overlong forms, surrogates and out-of-range sequences are invalid UTF-8") {
    CHECK_FALSE(isValidUtf8("\xC0\xAF"));
    CHECK_FALSE(isValidUtf8("\xE0\x80\xAF"));
    CHECK_FALSE(isValidUtf8("\xED\xA0\x80"));
    CHECK_FALSE(isValidUtf8("\xF4\x90\x80\x80"));
    CHECK_FALSE(isValidUtf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(isValidUtf8("\xE2\x82"));
    CHECK_FALSE(isValidUtf8("\x80"));
    CHECK(isValidUtf8("\xF4\x8F\xBF\xBF"));
    for (auto bad : {"\xC0\xAF", "\xED\xA0\x80", "\xE2\x82",
                     "a\xFF"
                     "b"})
        CHECK(isValidUtf8(decodeIrcText(bad)));
}

TEST_CASE("sanitizeUtf8 replaces each bad byte with U+FFFD and keeps good text") {
    CHECK(sanitizeUtf8("a\xFF"
                       "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(sanitizeUtf8("ok ü") == "ok ü");
}

TEST_CASE("appendUtf8 writes 1 to 4 bytes and refuses surrogates") {
    std::string s;
    appendUtf8(s, U'A');
    appendUtf8(s, 0xE9);
    appendUtf8(s, 0x20AC);
    appendUtf8(s, 0x1F389);
    CHECK(s == "Aé€🎉");
    std::string bad;
    appendUtf8(bad, 0xD800);
    appendUtf8(bad, 0x110000);
    CHECK(bad == "\xEF\xBF\xBD\xEF\xBF\xBD");
}
