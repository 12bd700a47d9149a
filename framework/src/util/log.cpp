// Implementation of mxbridge/log.h: one line per record on stderr, written with a single
// write(2) under a mutex so concurrent records never interleave. Field values may come from
// remote users, so everything that could break a line or fake a field is escaped.
#include "mxbridge/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace mxbridge {
namespace {

struct LogState {
    std::mutex configMutex;  // guards components
    std::unordered_map<std::string, LogLevel> components;
    std::atomic<int> defaultLevel{static_cast<int>(LogLevel::Info)};
    std::atomic<bool> json{false};
    // Starts at 1 so a fresh Logger's generation 0 is always stale.
    std::atomic<unsigned> generation{1};
    std::mutex writeMutex;
};

LogState& state() {
    static LogState* s = new LogState;  // never destroyed: loggers run during static teardown
    return *s;
}

// The cached level carries the generation it was computed for in its upper bits, so a level
// and its generation are published by one atomic store and can never be paired wrongly.
constexpr int kLevelBits = 3;
constexpr unsigned kGenerationMask = (1u << (31 - kLevelBits)) - 1;

int pack(unsigned generation, LogLevel level) {
    return static_cast<int>(((generation & kGenerationMask) << kLevelBits) | static_cast<unsigned>(level));
}

void bumpGeneration() {
    unsigned g = state().generation.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (g == 0) state().generation.store(1, std::memory_order_release);
}

void appendHex(std::string& out, unsigned char c) {
    static const char* digits = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 15];
}

// Length of a valid UTF-8 sequence at s[i], 0 if invalid.
size_t utf8Length(std::string_view s, size_t i, uint32_t& cp) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc >> 6) != 2) return 0;
        cp = (cp << 6) | (cc & 0x3f);
    }
    static const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < minimum[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

// Escapes everything a terminal or log reader could take as a line break or control
// sequence: C0/C1 controls, DEL, U+2028/2029, and bytes that aren't valid UTF-8.
// `quoting` also escapes '"' and '\\' so a quoted value can't end early.
void appendEscaped(std::string& out, std::string_view s, bool quoting) {
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        uint32_t cp = 0;
        size_t n = utf8Length(s, i, cp);
        if (n == 0) {
            appendHex(out, c);
            ++i;
            continue;
        }
        if (n == 1) {
            if (c == '\n') out += "\\n";
            else if (c == '\r') out += "\\r";
            else if (c == '\t') out += "\\t";
            else if (c < 0x20 || c == 0x7f) appendHex(out, c);
            else if (quoting && (c == '"' || c == '\\')) (out += '\\') += static_cast<char>(c);
            else out += static_cast<char>(c);
        } else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
            char buf[12];
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            out += buf;
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
}

bool needsQuotes(std::string_view v) {
    if (v.empty()) return true;
    for (unsigned char c : v)
        if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
    return false;
}

// Field keys come from code, but a key must never carry '=' or spaces either.
std::string cleanKey(std::string_view key) {
    std::string k;
    for (char c : key) k += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') ? c : '_';
    return k.empty() ? "_" : k;
}

std::string timestamp() {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string textLine(LogLevel level, const std::string& component, std::string_view message, LogFields fields) {
    static const char* names[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};
    std::string line = timestamp();
    line += ' ';
    line += names[static_cast<int>(level)];
    line += " [";
    appendEscaped(line, component, false);
    line += "] ";
    appendEscaped(line, message, false);
    for (const auto& f : fields) {
        line += ' ';
        line += cleanKey(f.key);
        line += '=';
        if (needsQuotes(f.value)) {
            line += '"';
            appendEscaped(line, f.value, true);
            line += '"';
        } else {
            line += f.value;
        }
    }
    line += '\n';
    return line;
}

std::string jsonLine(LogLevel level, const std::string& component, std::string_view message, LogFields fields) {
    nlohmann::ordered_json j;
    j["ts"] = timestamp();
    j["level"] = std::string(logLevelName(level));
    j["component"] = component;
    j["msg"] = std::string(message);
    for (const auto& f : fields) {
        std::string key = cleanKey(f.key);
        if (j.contains(key)) key = "field." + key;  // never overwrite ts/level/component/msg
        j[key] = f.value;
    }
    // replace: invalid UTF-8 from a remote peer becomes U+FFFD rather than an exception.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void writeAll(const std::string& line) {
    std::lock_guard lock(state().writeMutex);
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // nowhere left to report a failing stderr
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace

bool parseLogLevel(std::string_view text, LogLevel& out) {
    static const std::pair<std::string_view, LogLevel> levels[] = {
        {"trace", LogLevel::Trace}, {"debug", LogLevel::Debug}, {"info", LogLevel::Info},
        {"warn", LogLevel::Warn},   {"error", LogLevel::Error}, {"off", LogLevel::Off}};
    for (const auto& [name, level] : levels)
        if (text == name) {
            out = level;
            return true;
        }
    return false;
}

std::string_view logLevelName(LogLevel level) {
    switch (level) {
    case LogLevel::Trace: return "trace";
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    case LogLevel::Off: return "off";
    }
    return "info";
}

void LogConfig::setDefaultLevel(LogLevel level) {
    state().defaultLevel.store(static_cast<int>(level), std::memory_order_release);
    bumpGeneration();
}

void LogConfig::setComponentLevel(const std::string& component, LogLevel level) {
    {
        std::lock_guard lock(state().configMutex);
        state().components[component] = level;
    }
    bumpGeneration();
}

void LogConfig::setJson(bool json) { state().json.store(json, std::memory_order_release); }

LogLevel LogConfig::levelFor(const std::string& component) {
    // "irc.connection" falls back to "irc", then to the default.
    std::lock_guard lock(state().configMutex);
    std::string name = component;
    while (true) {
        auto it = state().components.find(name);
        if (it != state().components.end()) return it->second;
        auto dot = name.rfind('.');
        if (dot == std::string::npos) break;
        name.resize(dot);
    }
    return static_cast<LogLevel>(state().defaultLevel.load(std::memory_order_acquire));
}

Logger::Logger(std::string component) : component_(std::move(component)) {}

bool Logger::enabled(LogLevel level) const {
    if (level == LogLevel::Off) return false;
    unsigned generation = state().generation.load(std::memory_order_acquire);
    int cached = cachedLevel_.load(std::memory_order_acquire);
    if (cached < 0 || cachedGeneration_.load(std::memory_order_acquire) != generation ||
        (static_cast<unsigned>(cached) >> kLevelBits) != (generation & kGenerationMask)) {
        cached = pack(generation, LogConfig::levelFor(component_));
        cachedLevel_.store(cached, std::memory_order_release);
        cachedGeneration_.store(generation, std::memory_order_release);
    }
    return static_cast<int>(level) >= (cached & ((1 << kLevelBits) - 1));
}

void Logger::log(LogLevel level, std::string_view message, LogFields fields) const {
    if (!enabled(level)) return;
    writeAll(state().json.load(std::memory_order_acquire) ? jsonLine(level, component_, message, fields)
                                                          : textLine(level, component_, message, fields));
}

}  // namespace mxbridge
