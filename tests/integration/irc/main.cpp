// doctest's main for integration_irc; the tests are in irc_bridge_test.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
