// The protocol examples of the XEPs (MXBRIDGE_XEPS_DIR, default ../shared/xmpp-xeps beside
// the checkout), as test fixtures.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mxbridge::xmpp::test {

struct XepExample {
    std::string xep;      // "xep-0199"
    std::string caption;  // the example's caption
    std::string xml;      // the CDATA content, as written
};

// The folder holding the xep-*.xml files, or nullopt when there is none.
std::optional<std::filesystem::path> xepsDir();
// Exits 77 (CTest: skipped) with a message when the folder is absent.
void requireXepsOrSkip(const char* testName);
// Every <example> of every xep-*.xml in the folder, in file order.
std::vector<XepExample> loadXepExamples(const std::filesystem::path& dir);

}  // namespace mxbridge::xmpp::test
