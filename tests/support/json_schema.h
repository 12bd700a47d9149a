// A JSON-schema validator for the subset the Matrix spec uses. `$ref`s must already be
// inlined (spec_loader.h). Supported: type (incl. lists; "integer" is an integral number),
// properties, required, additionalProperties (bool or schema), patternProperties, items
// (schema or tuple list), prefixItems, enum, const, allOf, anyOf, oneOf, not,
// minimum/maximum/exclusive*, minLength/maxLength, minItems/maxItems, minProperties/
// maxProperties, pattern. Ignored: format, x-*, annotations. A `pattern` that std::regex
// (ECMAScript) cannot compile is skipped and reported once on stderr.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxbridge::test {

/// Validates `instance` against `schema`; each problem reads "<json-pointer>: <what>",
/// e.g. "/events: required property missing". An empty vector means valid.
std::vector<std::string> validateJsonSchema(const nlohmann::json& schema,
                                            const nlohmann::json& instance,
                                            const std::string& rootPath = "");

}  // namespace mxbridge::test
