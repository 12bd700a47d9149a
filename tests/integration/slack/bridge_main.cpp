// doctest's main for integration_slack_bridge: skipped (77) without the Matrix spec data or
// Slack's API description.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "slack_double.h"
#include "spec_dir.h"

int main(int argc, char** argv) {
    MXBRIDGE_REQUIRE_SPEC();
    mxbridge::test::requireSlackApiOrSkip("integration_slack_bridge");
    doctest::Context context(argc, argv);
    return context.run();
}
