// The spec's event schemas (data/event-schemas/schema/*.yaml) and examples
// (data/event-schemas/examples/*), `$ref`s inlined, for validating events and as fixtures.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxbridge::test {

class EventSchemas {
public:
    /// Loads every schema and example file; throws std::runtime_error on unreadable files.
    explicit EventSchemas(const std::string& specDir);
    /// One instance per process, loaded on first use from specDir(); throws if absent.
    static const EventSchemas& shared();

    /// Problems with `event`, found through its `type`. An `m.room.message` is also checked
    /// against `m.room.message$<msgtype>` when the spec has that sub-schema. An unknown
    /// type is checked against the core room/state event schema.
    std::vector<std::string> validateEvent(const nlohmann::json& event) const;
    /// A schema by file stem, e.g. "m.room.member" or "m.room.message$m.text".
    const nlohmann::json* schema(const std::string& name) const;
    /// An example by file stem, e.g. "m.room.message$m.text"; `$ref`s merged.
    std::optional<nlohmann::json> example(const std::string& name) const;
    std::vector<std::string> exampleNames() const;

private:
    std::map<std::string, nlohmann::json> schemas_;
    std::map<std::string, nlohmann::json> examples_;
};

}  // namespace mxbridge::test
