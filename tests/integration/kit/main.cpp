// Integration tests of the bridge kit: the real `mxbridge` with the echo bridge, against the
// spec-checked homeserver double. Skipped (77) when the spec data is absent.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "spec_dir.h"

int main(int argc, char** argv) {
    MXBRIDGE_REQUIRE_SPEC();
    doctest::Context context(argc, argv);
    return context.run();
}
