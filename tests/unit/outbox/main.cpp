#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "mxbridge/log.h"
#include "spec_dir.h"

// The outbox logs retries and refusals at warn; the tests check behaviour, not logs.
int main(int argc, char** argv) {
    MXBRIDGE_REQUIRE_SPEC();
    mxbridge::LogConfig::setDefaultLevel(mxbridge::LogLevel::Error);
    doctest::Context context(argc, argv);
    return context.run();
}
