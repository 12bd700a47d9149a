// Validates a rendered registration against the Matrix spec's own JSON schema files
// (data/api/application-service/definitions/registration.yaml), read at test time so the
// check follows the spec rather than a copy of it. Exits 77 (skipped) without the spec data.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>

#include "mxbridge/registration.h"

namespace fs = std::filesystem;
using namespace mxbridge;

namespace {

fs::path schemaPath() {
    const char* dir = std::getenv("MXBRIDGE_SPEC_DIR");
    return fs::path(dir && *dir ? dir : MXBRIDGE_SPEC_DIR_DEFAULT) / "data/api/application-service/definitions/registration.yaml";
}

// JSON-schema type of a YAML node, by the YAML 1.2 core schema (independent of the code
// under test, which has its own typing).
std::string typeOf(const YAML::Node& n) {
    if (n.IsNull()) return "null";
    if (n.IsSequence()) return "array";
    if (n.IsMap()) return "object";
    if (n.Tag() != "?") return "string";
    const std::string& s = n.Scalar();
    if (s == "true" || s == "false") return "boolean";
    if (s == "~" || s == "null") return "null";
    if (std::regex_match(s, std::regex("[-+]?[0-9]+"))) return "integer";
    if (std::regex_match(s, std::regex(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)"))) return "number";
    return "string";
}

// The subset of JSON schema the spec's definitions use here: type, properties, required,
// items, allOf and $ref to a file relative to the referring one.
void validate(const YAML::Node& schema, const fs::path& dir, const YAML::Node& value, const std::string& path,
              std::vector<std::string>& errors) {
    if (schema["$ref"]) {
        fs::path ref = dir / schema["$ref"].as<std::string>();
        validate(YAML::LoadFile(ref.string()), ref.parent_path(), value, path, errors);
    }
    if (schema["allOf"])
        for (const auto& sub : schema["allOf"]) validate(sub, dir, value, path, errors);
    if (schema["type"]) {
        std::vector<std::string> allowed;
        if (schema["type"].IsSequence()) allowed = schema["type"].as<std::vector<std::string>>();
        else allowed.push_back(schema["type"].as<std::string>());
        std::string actual = typeOf(value);
        bool ok = std::find(allowed.begin(), allowed.end(), actual) != allowed.end() ||
                  (actual == "integer" && std::find(allowed.begin(), allowed.end(), "number") != allowed.end());
        if (!ok) errors.push_back(path + ": schema wants " + YAML::Dump(schema["type"]) + ", got " + actual);
    }
    if (schema["required"] && value.IsMap())
        for (const auto& key : schema["required"])
            if (!value[key.as<std::string>()]) errors.push_back(path + ": missing required " + key.as<std::string>());
    if (schema["properties"] && value.IsMap())
        for (const auto& prop : schema["properties"]) {
            std::string key = prop.first.as<std::string>();
            if (value[key]) validate(prop.second, dir, value[key], path + "." + key, errors);
        }
    if (schema["items"] && value.IsSequence()) {
        size_t i = 0;
        for (const auto& item : value) validate(schema["items"], dir, item, path + "[" + std::to_string(i++) + "]", errors);
    }
}

std::vector<std::string> validateText(const std::string& yaml) {
    std::vector<std::string> errors;
    fs::path schema = schemaPath();
    validate(YAML::LoadFile(schema.string()), schema.parent_path(), YAML::Load(yaml), "$", errors);
    return errors;
}

Config sampleConfig() {
    Config c;
    c.homeserver.serverName = "example.org";
    c.appservice.publicUrl = "http://localhost:29300";
    c.appservice.extraUserRegexes = {"@puppet_.*"};
    return c;
}

}  // namespace

TEST_CASE("a rendered registration is valid against the spec's registration schema") {
    Registration r = buildRegistration(sampleConfig(), {"irc_{id}", "irc_{id}", {"irc"}},
                                       Secret<std::string>("12345"), Secret<std::string>(generateToken()));
    auto errors = validateText(renderRegistrationYaml(r));
    for (const auto& e : errors) MESSAGE(e);
    CHECK(errors.empty());

    r.url.reset();  // "null" is allowed: no traffic wanted
    r.receiveEphemeral = false;
    r.protocols.clear();
    CHECK(validateText(renderRegistrationYaml(r)).empty());
}

TEST_CASE("the schema check itself catches wrong types and missing keys") {
    auto errors = validateText(
        "id: 5\nurl: http://x\nas_token: a\nsender_localpart: b\n"
        "namespaces:\n  users:\n    - regex: \"@a\"\n      exclusive: \"yes\"\n    - exclusive: true\n");
    auto has = [&](const std::string& s) {
        return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e.find(s) != std::string::npos; });
    };
    CHECK(has("$: missing required hs_token"));
    CHECK(has("$.id: schema wants string, got integer"));
    CHECK(has("$.namespaces.users[0].exclusive: schema wants boolean, got string"));
    CHECK(has("$.namespaces.users[1]: missing required regex"));
}

int main(int argc, char** argv) {
    if (!fs::exists(schemaPath())) {
        std::cerr << "skipped: no Matrix spec data at " << schemaPath() << " (set MXBRIDGE_SPEC_DIR)\n";
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
