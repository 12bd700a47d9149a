// doctest's main for integration_slack_web_api: skipped (77) without Slack's API description.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "slack_double.h"

int main(int argc, char** argv) {
    mxbridge::test::requireSlackApiOrSkip("integration_slack_web_api");
    doctest::Context context(argc, argv);
    return context.run();
}
