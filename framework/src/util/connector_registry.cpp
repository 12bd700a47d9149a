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
};
LastAdded& lastRegistration() {
    static LastAdded last;
    return last;
}
}  // namespace

void ConnectorRegistry::add(const std::string& name, const std::string& description,
                            ConnectorFactory factory) {
    std::lock_guard lock(registryMutex());
    registry()[name] = Entry{description, std::move(factory)};
    ++lastRegistration().count;
    lastRegistration().name = name;
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
