#include "xep_examples.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mxbridge::xmpp::test {

namespace {

bool holdsXeps(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "xep-0114.xml", ec);
}

std::string readAll(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

std::optional<std::filesystem::path> xepsDir() {
    if (const char* env = std::getenv("MXBRIDGE_XEPS_DIR"); env != nullptr && *env != 0)
        return holdsXeps(env) ? std::optional<std::filesystem::path>(env) : std::nullopt;
    if (holdsXeps(MXBRIDGE_XEPS_DIR_DEFAULT)) return std::filesystem::path(MXBRIDGE_XEPS_DIR_DEFAULT);
    return std::nullopt;
}

void requireXepsOrSkip(const char* testName) {
    if (xepsDir()) return;
    std::fprintf(stderr,
                 "%s: SKIPPED: XEP sources not found; set MXBRIDGE_XEPS_DIR to the folder holding "
                 "xep-0114.xml and the others (default ../shared/xmpp-xeps beside the checkout)\n",
                 testName);
    std::exit(77);
}

std::vector<XepExample> loadXepExamples(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("xep-", 0) == 0 && entry.path().extension() == ".xml") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<XepExample> examples;
    for (const auto& file : files) {
        std::string text = readAll(file);
        std::size_t pos = 0;
        while ((pos = text.find("<example", pos)) != std::string::npos) {
            std::size_t tagEnd = text.find('>', pos);
            std::size_t cdata = text.find("<![CDATA[", pos);
            std::size_t close = text.find("</example>", pos);
            if (tagEnd == std::string::npos || close == std::string::npos) break;
            XepExample example{.xep = file.stem().string(), .caption = {}, .xml = {}};
            std::string tag = text.substr(pos, tagEnd - pos);
            if (auto c = tag.find("caption="); c != std::string::npos && c + 9 < tag.size()) {
                char quote = tag[c + 8];
                std::size_t end = tag.find(quote, c + 9);
                example.caption = tag.substr(c + 9, end == std::string::npos ? std::string::npos : end - c - 9);
            }
            if (cdata != std::string::npos && cdata < close) {
                std::size_t start = cdata + 9;
                std::size_t end = text.find("]]>", start);
                example.xml = text.substr(start, end - start);
            }
            examples.push_back(std::move(example));
            pos = close + 10;
        }
    }
    return examples;
}

}  // namespace mxbridge::xmpp::test
