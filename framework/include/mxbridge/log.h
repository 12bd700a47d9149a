// Structured, component-scoped logging. Ids travel as fields so one grep follows an event
// end to end; secrets are wrapped in Secret<> and can never be printed by accident.
#pragma once

#include <atomic>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace mxbridge {

enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };

// Parses "trace|debug|info|warn|error|off"; returns false on anything else.
bool parseLogLevel(std::string_view text, LogLevel& out);
std::string_view logLevelName(LogLevel level);

// A value that must never reach a log line, a metric label or an error message.
// No implicit conversion: reading it takes an explicit reveal().
template <typename T>
class Secret {
public:
    Secret() = default;
    explicit Secret(T value) : value_(std::move(value)) {}
    const T& reveal() const { return value_; }
    bool empty() const { return value_.empty(); }
    friend bool operator==(const Secret& a, const Secret& b) { return a.value_ == b.value_; }

private:
    T value_{};
};

struct LogField {
    std::string_view key;
    std::string value;
    LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
    LogField(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
    LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
    template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
    LogField(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
    template <typename T>
    LogField(std::string_view k, const Secret<T>&) : key(k), value("[redacted]") {}
};

using LogFields = std::initializer_list<LogField>;

// Process-wide sink configuration. Levels are per component, with a default.
class LogConfig {
public:
    static void setDefaultLevel(LogLevel level);
    static void setComponentLevel(const std::string& component, LogLevel level);
    static void setJson(bool json);
    static LogLevel levelFor(const std::string& component);
};

// A logger bound to one component ("appservice", "journal", "irc"...). Cheap to copy.
class Logger {
public:
    explicit Logger(std::string component);
    Logger(const Logger& other) : component_(other.component_) {}
    Logger& operator=(const Logger& other) {
        component_ = other.component_;
        cachedGeneration_ = 0;
        return *this;
    }

    bool enabled(LogLevel level) const;
    void log(LogLevel level, std::string_view message, LogFields fields = {}) const;
    void trace(std::string_view m, LogFields f = {}) const { if (enabled(LogLevel::Trace)) log(LogLevel::Trace, m, f); }
    void debug(std::string_view m, LogFields f = {}) const { if (enabled(LogLevel::Debug)) log(LogLevel::Debug, m, f); }
    void info(std::string_view m, LogFields f = {}) const { log(LogLevel::Info, m, f); }
    void warn(std::string_view m, LogFields f = {}) const { log(LogLevel::Warn, m, f); }
    void error(std::string_view m, LogFields f = {}) const { log(LogLevel::Error, m, f); }
    const std::string& component() const { return component_; }

private:
    std::string component_;
    // Cached level; refreshed when LogConfig changes (generation counter) so the check is cheap.
    mutable std::atomic<int> cachedLevel_{-1};
    mutable std::atomic<unsigned> cachedGeneration_{0};
};

}  // namespace mxbridge
