#include <map>
#include <mutex>

#include "mxbridge/connector.h"

namespace mxbridge {

namespace {
struct Entry {
    std::string description;
    ConnectorFactory factory;
};
// Function-local statics: registrars run during static initialisation of other libraries.
std::mutex& registryMutex() {
    static std::mutex m;
    return m;
}
std::map<std::string, Entry>& registry() {
    static std::map<std::string, Entry> r;
    return r;
}
uint64_t addCount = 0;
std::string lastName;
}  // namespace

void ConnectorRegistry::add(const std::string& name, const std::string& description,
                            ConnectorFactory factory) {
    std::lock_guard lock(registryMutex());
    registry()[name] = Entry{description, std::move(factory)};
    ++addCount;
    lastName = name;
}

uint64_t ConnectorRegistry::generation() {
    std::lock_guard lock(registryMutex());
    return addCount;
}

std::string ConnectorRegistry::lastAdded() {
    std::lock_guard lock(registryMutex());
    return lastName;
}

std::unique_ptr<Connector> ConnectorRegistry::create(const std::string& name) {
    std::lock_guard lock(registryMutex());
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second.factory();
}

std::vector<std::pair<std::string, std::string>> ConnectorRegistry::list() {
    std::lock_guard lock(registryMutex());
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, e] : registry()) out.emplace_back(name, e.description);
    return out;
}

}  // namespace mxbridge
