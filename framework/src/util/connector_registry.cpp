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
// Also function-local: a namespace-scope string here was constructed after a registrar in
// another file of the library had assigned it, which leaked that name (LeakSanitizer).
struct LastAdded {
    uint64_t count = 0;
    std::string name;
    int apiVersion = 0;
};
LastAdded& lastRegistration() {
    static LastAdded last;
    return last;
}
}  // namespace

int pluginApiVersion() { return MXBRIDGE_PLUGIN_API_VERSION; }

void ConnectorRegistry::add(const std::string& name, const std::string& description,
                            ConnectorFactory factory) {
    std::lock_guard lock(registryMutex());
    registry()[name] = Entry{description, std::move(factory)};
    ++lastRegistration().count;
    lastRegistration().name = name;
    lastRegistration().apiVersion = 0;
}

void ConnectorRegistry::addVersioned(const std::string& name, const std::string& description,
                                     ConnectorFactory factory, int apiVersion) {
    std::lock_guard lock(registryMutex());
    // Another version's factory would build an object whose vtable this mxbridge misreads.
    if (apiVersion == pluginApiVersion()) registry()[name] = Entry{description, std::move(factory)};
    ++lastRegistration().count;
    lastRegistration().name = name;
    lastRegistration().apiVersion = apiVersion;
}

int ConnectorRegistry::lastApiVersion() {
    std::lock_guard lock(registryMutex());
    return lastRegistration().apiVersion;
}

uint64_t ConnectorRegistry::generation() {
    std::lock_guard lock(registryMutex());
    return lastRegistration().count;
}

std::string ConnectorRegistry::lastAdded() {
    std::lock_guard lock(registryMutex());
    return lastRegistration().name;
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
