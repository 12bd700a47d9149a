// Loading and querying the spec's OpenAPI operations (see spec_catalog.h).
#include "spec_catalog.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "json_schema.h"
#include "spec_loader.h"

namespace mxbridge::test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string> splitSegments(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    if (!path.empty() && path[0] == '/') start = 1;
    while (true) {
        const auto slash = path.find('/', start);
        out.emplace_back(path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return out;
}

std::optional<std::string> headerValue(const StringMap& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (lower(k) == lower(name)) return v;
    }
    return std::nullopt;
}

std::optional<json> exampleFromContent(const json& content) {
    if (!content.is_object()) return std::nullopt;
    auto media = content.find("application/json");
    if (media == content.end()) return std::nullopt;
    if (auto ex = media->find("examples"); ex != media->end() && ex->is_object() && !ex->empty()) {
        const json& first = ex->begin().value();
        if (first.is_object() && first.contains("value")) return first["value"];
    }
    if (auto ex = media->find("example"); ex != media->end()) return *ex;
    if (auto schema = media->find("schema"); schema != media->end() && schema->is_object()) {
        if (auto ex = schema->find("example"); ex != schema->end()) return *ex;
    }
    return std::nullopt;
}

// Query strings carry text; give the validator the type the schema expects.
json coerceParameter(const json& schema, const std::string& value) {
    std::string type = schema.is_object() && schema.contains("type") && schema["type"].is_string()
                           ? schema["type"].get<std::string>()
                           : "string";
    try {
        if (type == "integer") {
            std::size_t used = 0;
            long long n = std::stoll(value, &used);
            if (used == value.size()) return n;
        } else if (type == "number") {
            std::size_t used = 0;
            double d = std::stod(value, &used);
            if (used == value.size()) return d;
        } else if (type == "boolean") {
            if (value == "true") return true;
            if (value == "false") return false;
        } else if (type == "array") {
            return json::array({value});
        }
    } catch (const std::exception&) {
    }
    return value;
}

}  // namespace

std::string percentDecode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string percentEncode(std::string_view s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::pair<std::string, StringMap> splitTarget(std::string_view target) {
    const auto q = target.find('?');
    std::string path(target.substr(0, q));
    StringMap query;
    if (q == std::string_view::npos) return {path, query};
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        std::string key(pair.substr(0, eq));
        std::string value = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
        std::replace(key.begin(), key.end(), '+', ' ');
        std::replace(value.begin(), value.end(), '+', ' ');
        if (!key.empty()) query[percentDecode(key)] = percentDecode(value);
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
    }
    return {path, query};
}

SpecCatalog::SpecCatalog(const std::string& specDir) {
    detail::RefResolver resolver;
    for (const char* api : {"application-service", "client-server"}) {
        const fs::path dir = fs::path(specDir) / "data" / "api" / api;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            const json& doc = resolver.resolvedFile(file);
            if (!doc.is_object() || !doc.contains("paths")) continue;
            std::string basePath;
            if (doc.contains("servers") && doc["servers"].is_array() && !doc["servers"].empty()) {
                const json& server = doc["servers"][0];
                if (server.contains("variables") && server["variables"].contains("basePath")) {
                    basePath = server["variables"]["basePath"].value("default", "");
                }
            }
            const json globalSecurity = doc.value("security", json());
            for (const auto& [pathTemplate, item] : doc["paths"].items()) {
                if (!item.is_object()) continue;
                const json shared = item.value("parameters", json::array());
                for (const auto& [method, opJson] : item.items()) {
                    static const char* kMethods[] = {"get", "put", "post", "delete", "patch", "head", "options"};
                    if (std::none_of(std::begin(kMethods), std::end(kMethods),
                                     [&](const char* m) { return method == m; })) {
                        continue;
                    }
                    Operation op;
                    op.api = api;
                    op.file = file.filename().string();
                    op.method = upper(method);
                    // inviting.yaml spells its path "/rooms/{roomId}/invite " (trailing space).
                    std::string trimmed = pathTemplate;
                    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
                    op.path = basePath + trimmed;
                    op.operationId = opJson.value("operationId", "");
                    op.deprecated = opJson.value("deprecated", false);
                    auto addParams = [&](const json& list) {
                        if (!list.is_array()) return;
                        for (const auto& p : list) {
                            if (!p.is_object()) continue;
                            Parameter param{p.value("name", ""), p.value("in", ""),
                                            p.value("required", false), p.value("schema", json::object())};
                            if (param.in == "path") param.required = true;
                            auto same = std::find_if(op.parameters.begin(), op.parameters.end(), [&](const Parameter& x) {
                                return x.name == param.name && x.in == param.in;
                            });
                            if (same != op.parameters.end()) *same = param;
                            else op.parameters.push_back(param);
                        }
                    };
                    addParams(shared);
                    addParams(opJson.value("parameters", json::array()));
                    if (auto body = opJson.find("requestBody"); body != opJson.end() && body->is_object()) {
                        op.requestBodyRequired = body->value("required", false);
                        if (auto content = body->find("content"); content != body->end() && content->is_object()) {
                            for (const auto& [type, media] : content->items()) {
                                op.requestContentTypes.push_back(type);
                                if (type == "application/json" && media.contains("schema")) {
                                    op.requestBodySchema = media["schema"];
                                }
                            }
                            op.requestExample = exampleFromContent(*content);
                        }
                    }
                    if (auto responses = opJson.find("responses"); responses != opJson.end() && responses->is_object()) {
                        for (const auto& [status, resp] : responses->items()) {
                            json schema;
                            if (resp.contains("content") && resp["content"].contains("application/json")) {
                                schema = resp["content"]["application/json"].value("schema", json());
                                if (auto ex = exampleFromContent(resp["content"])) op.responseExamples[status] = *ex;
                            }
                            op.responseSchemas[status] = schema;
                        }
                    }
                    const json security = opJson.contains("security") ? opJson["security"] : globalSecurity;
                    if (security.is_array() && !security.empty()) {
                        op.authRequired = true;
                        for (const auto& requirement : security) {
                            if (!requirement.is_object() || requirement.empty()) op.authRequired = false;
                            else for (const auto& [name, _] : requirement.items()) op.securitySchemes.push_back(name);
                        }
                    }
                    operations_.push_back(std::move(op));
                }
            }
        }
    }
}

const SpecCatalog& SpecCatalog::shared() {
    static std::once_flag once;
    static std::unique_ptr<SpecCatalog> catalog;
    std::call_once(once, [] {
        auto dir = specDir();
        if (!dir) throw std::runtime_error("Matrix spec data not found (set MXBRIDGE_SPEC_DIR)");
        catalog = std::make_unique<SpecCatalog>(*dir);
    });
    return *catalog;
}

std::optional<StringMap> SpecCatalog::matchPath(const Operation& op, std::string_view path) const {
    const auto tmpl = splitSegments(op.path);
    auto segs = splitSegments(path);
    // An empty state key may be sent with or without the trailing slash.
    if (segs.size() + 1 == tmpl.size() && tmpl.back() == "{stateKey}") segs.emplace_back();
    if (segs.size() != tmpl.size()) return std::nullopt;
    StringMap params;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        const std::string& t = tmpl[i];
        const std::string value = percentDecode(segs[i]);
        if (t.size() > 2 && t.front() == '{' && t.back() == '}') {
            const std::string name = t.substr(1, t.size() - 2);
            if (value.empty() && name != "stateKey") return std::nullopt;
            params[name] = value;
        } else if (t != value) {
            return std::nullopt;
        }
    }
    return params;
}

std::vector<const Operation*> SpecCatalog::findOperations(std::string_view method,
                                                          std::string_view path) const {
    const std::string m = upper(method);
    std::vector<std::pair<int, const Operation*>> scored;
    for (const auto& op : operations_) {
        if (op.method != m || !matchPath(op, path)) continue;
        int literals = 0;
        for (const auto& seg : splitSegments(op.path)) literals += seg.empty() || seg.front() != '{';
        scored.emplace_back(literals, &op);
    }
    std::vector<const Operation*> out;
    if (scored.empty()) return out;
    const int best = std::max_element(scored.begin(), scored.end(), [](auto& a, auto& b) {
                         return a.first < b.first;
                     })->first;
    for (auto& [score, op] : scored) {
        if (score == best) out.push_back(op);
    }
    return out;
}

const Operation* SpecCatalog::findOperation(std::string_view method, std::string_view path) const {
    auto ops = findOperations(method, path);
    return ops.empty() ? nullptr : ops.front();
}

const Operation* SpecCatalog::operationById(std::string_view operationId) const {
    for (const auto& op : operations_) {
        if (op.operationId == operationId) return &op;
    }
    return nullptr;
}

std::vector<std::string> SpecCatalog::validateRequest(std::string_view method, std::string_view path,
                                                      const StringMap& query, const StringMap& headers,
                                                      const std::optional<json>& body) const {
    const auto ops = findOperations(method, path);
    if (ops.empty()) {
        std::string others;
        for (const auto& op : operations_) {
            if (matchPath(op, path)) others += (others.empty() ? "" : ", ") + op.method + " (" + op.operationId + ")";
        }
        if (!others.empty()) {
            return {"no " + upper(method) + " operation on " + std::string(path) + "; the spec has " + others};
        }
        return {"no operation in the spec matches " + upper(method) + " " + std::string(path)};
    }
    std::vector<std::string> firstProblems;
    for (const Operation* op : ops) {
        auto problems = validateAgainst(*op, path, query, headers, body);
        if (problems.empty()) return {};
        if (firstProblems.empty()) {
            for (auto& p : problems) firstProblems.push_back(op->operationId + ": " + p);
        }
    }
    return firstProblems;
}

std::vector<std::string> SpecCatalog::validateAgainst(const Operation& op, std::string_view path,
                                                      const StringMap& query, const StringMap& headers,
                                                      const std::optional<json>& body) const {
    std::vector<std::string> problems;
    const StringMap pathParams = matchPath(op, path).value_or(StringMap{});
    for (const auto& param : op.parameters) {
        std::optional<std::string> value;
        if (param.in == "path") {
            if (auto it = pathParams.find(param.name); it != pathParams.end()) value = it->second;
        } else if (param.in == "query") {
            if (auto it = query.find(param.name); it != query.end()) value = it->second;
        } else if (param.in == "header") {
            value = headerValue(headers, param.name);
        } else {
            continue;
        }
        if (!value) {
            if (param.required) problems.push_back(param.in + " parameter `" + param.name + "` is required");
            continue;
        }
        for (auto& p : validateJsonSchema(param.schema, coerceParameter(param.schema, *value))) {
            problems.push_back(param.in + " parameter `" + param.name + "` " + p);
        }
    }
    if (op.requestBodySchema) {
        if (body) {
            for (auto& p : validateJsonSchema(*op.requestBodySchema, *body)) problems.push_back("body " + p);
        } else if (op.requestBodyRequired) {
            problems.push_back("a JSON request body is required");
        }
    }
    if (op.authRequired) {
        const auto auth = headerValue(headers, "Authorization");
        const bool bearer = auth && auth->rfind("Bearer ", 0) == 0 && auth->size() > 7;
        if (!bearer && !query.count("access_token")) {
            std::string schemes;
            for (auto& s : op.securitySchemes) schemes += (schemes.empty() ? "" : ", ") + s;
            problems.push_back("missing access token (Authorization: Bearer or ?access_token=); "
                               "the operation requires " + schemes);
        }
    }
    return problems;
}

std::vector<std::string> SpecCatalog::validateResponse(const Operation& op, int status,
                                                       const json& body) const {
    auto it = op.responseSchemas.find(std::to_string(status));
    if (it == op.responseSchemas.end()) {
        return {op.operationId + ": status " + std::to_string(status) + " is not documented"};
    }
    if (it->second.is_null()) return {};
    auto problems = validateJsonSchema(it->second, body);
    for (auto& p : problems) p = op.operationId + " response " + std::to_string(status) + " " + p;
    return problems;
}

std::optional<json> SpecCatalog::exampleRequestBody(std::string_view operationId) const {
    const Operation* op = operationById(operationId);
    return op ? op->requestExample : std::nullopt;
}

std::optional<json> SpecCatalog::exampleResponse(std::string_view operationId, int status) const {
    const Operation* op = operationById(operationId);
    if (!op) return std::nullopt;
    auto it = op->responseExamples.find(std::to_string(status));
    if (it == op->responseExamples.end()) return std::nullopt;
    return it->second;
}

}  // namespace mxbridge::test
