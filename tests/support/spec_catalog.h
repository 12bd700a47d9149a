// The Matrix HTTP APIs as data: every operation of the spec's application-service and
// client-server OpenAPI files (data/api/*), with `$ref`s inlined, full paths (servers'
// basePath + path template), parameters, body/response schemas, security and examples.
// Nothing here is hand-copied from the spec; it all comes from the files.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec_dir.h"

namespace mxbridge::test {

using StringMap = std::map<std::string, std::string>;

struct Parameter {
    std::string name;
    std::string in;  ///< "path", "query" or "header"
    bool required = false;
    nlohmann::json schema;  ///< resolved; `{}` when the spec gives none
};

struct Operation {
    std::string api;          ///< "application-service" or "client-server"
    std::string file;         ///< e.g. "transactions.yaml"
    std::string method;       ///< upper case: "PUT"
    std::string path;         ///< full template: "/_matrix/app/v1/transactions/{txnId}"
    std::string operationId;  ///< e.g. "sendTransaction"
    bool deprecated = false;
    std::vector<Parameter> parameters;
    std::optional<nlohmann::json> requestBodySchema;  ///< for application/json bodies
    std::vector<std::string> requestContentTypes;
    bool requestBodyRequired = false;
    std::map<std::string, nlohmann::json> responseSchemas;  ///< "200" → schema (null: none)
    std::vector<std::string> securitySchemes;  ///< names from `security`, e.g. accessTokenBearer
    bool authRequired = false;                 ///< `security` present without a `{}` option
    std::optional<nlohmann::json> requestExample;
    std::map<std::string, nlohmann::json> responseExamples;  ///< "200" → example body
};

/// Splits "/a/b?x=1&y=%21" into the raw path and the percent-decoded query.
std::pair<std::string, StringMap> splitTarget(std::string_view target);
std::string percentDecode(std::string_view s);
/// Encodes one path segment (keeps unreserved characters only).
std::string percentEncode(std::string_view s);

class SpecCatalog {
public:
    /// Loads `<specDir>/data/api/{application-service,client-server}/*.yaml`. Throws
    /// std::runtime_error when a file cannot be read.
    explicit SpecCatalog(const std::string& specDir);
    /// One catalog per process, loaded on first use from specDir(); throws if absent.
    static const SpecCatalog& shared();

    const std::vector<Operation>& operations() const { return operations_; }

    /// The operation serving `method` on the raw (percent-encoded) `path`, or nullptr.
    /// Literal segments win over `{param}` segments. Where two spec files describe the same
    /// route (POST /rooms/{roomId}/invite: inviting.yaml and third_party_membership.yaml),
    /// this returns the first; findOperations returns all.
    const Operation* findOperation(std::string_view method, std::string_view path) const;
    std::vector<const Operation*> findOperations(std::string_view method,
                                                 std::string_view path) const;
    const Operation* operationById(std::string_view operationId) const;
    /// Percent-decoded path parameters when `path` fits `op`'s template.
    std::optional<StringMap> matchPath(const Operation& op, std::string_view path) const;

    /// Problems with a request, each a readable sentence; empty when it conforms. `path` is
    /// raw, `query` decoded, header names case-insensitive, `body` the parsed JSON if any.
    /// Checks: known operation, path/query/header parameters (presence and type), the JSON
    /// body against the schema, and an access token (Authorization: Bearer or
    /// ?access_token=) where `security` demands one.
    std::vector<std::string> validateRequest(std::string_view method, std::string_view path,
                                             const StringMap& query, const StringMap& headers,
                                             const std::optional<nlohmann::json>& body) const;
    /// As validateRequest, against one operation whose template `path` fits.
    std::vector<std::string> validateAgainst(const Operation& op, std::string_view path,
                                             const StringMap& query, const StringMap& headers,
                                             const std::optional<nlohmann::json>& body) const;
    /// Problems with a response body for `status`; an undocumented status is a problem.
    std::vector<std::string> validateResponse(const Operation& op, int status,
                                              const nlohmann::json& body) const;

    /// The spec's example request body / response for an operation, `$ref`s resolved
    /// (e.g. exampleRequestBody("sendTransaction") has full events).
    std::optional<nlohmann::json> exampleRequestBody(std::string_view operationId) const;
    std::optional<nlohmann::json> exampleResponse(std::string_view operationId, int status) const;

private:
    std::vector<Operation> operations_;
};

}  // namespace mxbridge::test
