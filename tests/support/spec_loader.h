// Loads the spec's YAML/JSON files as nlohmann::json and inlines every `$ref`.
// Internal to the test support library; SpecCatalog and EventSchemas build on it.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace mxbridge::test::detail {

/// Reads one YAML (or JSON, which is YAML) file. Quoted scalars stay strings; plain scalars
/// become null/bool/integer/number where they look like one. Throws std::runtime_error.
nlohmann::json loadYamlFile(const std::filesystem::path& file);

/// Inlines `$ref`s: relative file paths, `#/json/pointer` fragments and both combined.
/// Inside examples a `$ref` object is the referenced example with its sibling keys laid
/// over it (as transactions.yaml does with event examples). Inside schemas, annotation
/// siblings (description, title…) are merged and other siblings become `allOf`. A reference
/// cycle is cut with `{}` (accept anything), so recursive schemas stay finite.
class RefResolver {
public:
    /// The whole file, resolved. Cached.
    const nlohmann::json& resolvedFile(const std::filesystem::path& file);
    /// Resolves `node`, which was read from `file`.
    nlohmann::json resolve(const nlohmann::json& node, const std::filesystem::path& file,
                           bool inExample = false);

private:
    const nlohmann::json& rawFile(const std::filesystem::path& file);
    nlohmann::json resolveNode(const nlohmann::json& node, const std::filesystem::path& file,
                               bool inExample, std::vector<std::string>& stack);

    std::map<std::string, nlohmann::json> raw_;
    std::map<std::string, nlohmann::json> resolvedFiles_;
    std::map<std::string, nlohmann::json> memo_;
    std::set<std::string> missing_;
};

}  // namespace mxbridge::test::detail
