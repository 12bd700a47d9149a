// doctest's main for unit_purple_connector; the tests are in the *_test.cpp files beside it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
