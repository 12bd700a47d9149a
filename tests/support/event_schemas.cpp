// Event schema loading and validation (see event_schemas.h).
#include "event_schemas.h"

#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "json_schema.h"
#include "spec_dir.h"
#include "spec_loader.h"

namespace mxbridge::test {

namespace fs = std::filesystem;
using nlohmann::json;

EventSchemas::EventSchemas(const std::string& specDir) {
    detail::RefResolver resolver;
    const fs::path root = fs::path(specDir) / "data" / "event-schemas";
    for (const auto& entry : fs::directory_iterator(root / "schema")) {
        if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
        schemas_[entry.path().stem().string()] = resolver.resolvedFile(entry.path());
    }
    for (const auto& entry : fs::directory_iterator(root / "examples")) {
        const auto ext = entry.path().extension();
        if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".json")) continue;
        examples_[entry.path().stem().string()] =
            resolver.resolve(detail::loadYamlFile(entry.path()), entry.path(), /*inExample=*/true);
    }
    for (const char* core : {"room_event", "state_event"}) {
        schemas_[std::string("core-event-schema/") + core] =
            resolver.resolvedFile(root / "schema" / "core-event-schema" / (std::string(core) + ".yaml"));
    }
}

const EventSchemas& EventSchemas::shared() {
    static std::once_flag once;
    static std::unique_ptr<EventSchemas> schemas;
    std::call_once(once, [] {
        auto dir = specDir();
        if (!dir) throw std::runtime_error("Matrix spec data not found (set MXBRIDGE_SPEC_DIR)");
        schemas = std::make_unique<EventSchemas>(*dir);
    });
    return *schemas;
}

const json* EventSchemas::schema(const std::string& name) const {
    auto it = schemas_.find(name);
    return it == schemas_.end() ? nullptr : &it->second;
}

std::optional<json> EventSchemas::example(const std::string& name) const {
    auto it = examples_.find(name);
    if (it == examples_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> EventSchemas::exampleNames() const {
    std::vector<std::string> names;
    for (const auto& [name, _] : examples_) names.push_back(name);
    return names;
}

std::vector<std::string> EventSchemas::validateEvent(const json& event) const {
    if (!event.is_object()) return {"/: an event must be a JSON object"};
    const std::string type = event.value("type", "");
    if (type.empty()) return {"/type: required property missing"};
    std::vector<std::string> problems;
    auto add = [&](const std::string& name, const json& s) {
        for (auto& p : validateJsonSchema(s, event)) problems.push_back(name + ": " + p);
    };
    if (const json* s = schema(type)) {
        add(type, *s);
    } else {
        const char* core = event.contains("state_key") ? "core-event-schema/state_event"
                                                       : "core-event-schema/room_event";
        add(core, *schema(core));
    }
    if (type == "m.room.message" && event.contains("content") && event["content"].is_object()) {
        const std::string name = "m.room.message$" + event["content"].value("msgtype", "");
        if (const json* s = schema(name)) add(name, *s);
    }
    return problems;
}

}  // namespace mxbridge::test
