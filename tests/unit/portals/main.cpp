#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "mxbridge/log.h"

// Failure paths are exercised on purpose; their log lines would only hide doctest's report.
int main(int argc, char** argv) {
    mxbridge::LogConfig::setDefaultLevel(mxbridge::LogLevel::Off);
    doctest::Context context(argc, argv);
    return context.run();
}
