#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "mxbridge/log.h"

// Commands log refusals at info/warn; the tests check behaviour.
int main(int argc, char** argv) {
    mxbridge::LogConfig::setDefaultLevel(mxbridge::LogLevel::Error);
    doctest::Context context(argc, argv);
    return context.run();
}
