// The one exception type the integration harness throws: a test failed to get what it waited
// for. Its message always says what was wanted and what was seen last, so a CI log is enough.
#pragma once

#include <stdexcept>
#include <string>

namespace mxbridge::test {

class HarnessError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace mxbridge::test
