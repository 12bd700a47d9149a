// The logger: line format, JSON mode, per-component levels, secrets and log injection.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <regex>

#include "mxbridge/log.h"
#include "test_files.h"

using namespace mxbridge;

// LogLevel comparisons sit in double parentheses: doctest stringifies operands through an
// unqualified toString(), and ADL picks mxbridge::toString(LogLevel), which returns a
// string_view doctest can't concatenate.

namespace {

// Runs `f` with stderr redirected to a file and returns what was written.
std::string captureStderr(const std::function<void()>& f) {
    test::TempDir dir;
    std::string path = dir.file("stderr");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int saved = ::dup(STDERR_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    f();
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    return test::readFile(path);
}

struct ResetLogConfig {
    ~ResetLogConfig() {
        LogConfig::setJson(false);
        LogConfig::setDefaultLevel(LogLevel::Info);
    }
};

}  // namespace

TEST_CASE("a record is one line: time, level, component, message, fields") {
    ResetLogConfig reset;
    Logger log("appservice");
    std::string out = captureStderr([&] { log.info("transaction stored", {{"txn", "42"}, {"room", "!a:b c"}, {"n", 3}}); });
    static const std::regex line(
        R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  \[appservice\] transaction stored txn=42 room="!a:b c" n=3\n)");
    CHECK_MESSAGE(std::regex_match(out, line), out);
}

TEST_CASE("a secret is never printed") {
    ResetLogConfig reset;
    Logger log("registration");
    Secret<std::string> token("hunter2-token");
    std::string out = captureStderr([&] { log.warn("using token", {{"as_token", token}}); });
    CHECK(out.find("hunter2") == std::string::npos);
    CHECK(out.find("as_token=[redacted]") != std::string::npos);
    LogConfig::setJson(true);
    out = captureStderr([&] { log.warn("using token", {{"as_token", token}}); });
    CHECK(out.find("hunter2") == std::string::npos);
}

TEST_CASE("a remote value cannot inject a line or a field") {
    ResetLogConfig reset;
    Logger log("irc");
    std::string evil = "hi\n2026-01-01T00:00:00.000Z ERROR [core] fake\" admin=\"yes\r\x1b[31m";
    std::string out = captureStderr([&] { log.info("message from remote\nforged", {{"text", evil}}); });
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK(out.back() == '\n');
    CHECK(out.find('\r') == std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find("message from remote\\nforged") != std::string::npos);
    CHECK(out.find(R"(text="hi\n2026-01-01T00:00:00.000Z ERROR [core] fake\" admin=\"yes\r\x1b[31m")") != std::string::npos);
    // Unicode line separators and invalid UTF-8 are escaped too.
    out = captureStderr([&] { log.info("x", {{"v", "a\xe2\x80\xa8" "b\xff"}}); });
    CHECK(out.find(R"(v="a\u2028b\xff")") != std::string::npos);
}

TEST_CASE("JSON mode writes one parseable object per line") {
    ResetLogConfig reset;
    LogConfig::setJson(true);
    Logger log("journal");
    std::string out = captureStderr([&] { log.error("append failed", {{"msg", "x\ny"}, {"room", "!r:s"}}); });
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    auto j = nlohmann::json::parse(out);
    CHECK(j["level"] == "error");
    CHECK(j["component"] == "journal");
    CHECK(j["msg"] == "append failed");
    CHECK(j["field.msg"] == "x\ny");
    CHECK(j["room"] == "!r:s");
}

TEST_CASE("levels are per component and changes reach existing loggers") {
    ResetLogConfig reset;
    Logger log("levels-test");
    Logger child("levels-test.conn");
    CHECK_FALSE(log.enabled(LogLevel::Debug));
    CHECK(log.enabled(LogLevel::Info));
    CHECK(captureStderr([&] { log.debug("hidden"); }).empty());

    LogConfig::setComponentLevel("levels-test", LogLevel::Debug);
    CHECK(log.enabled(LogLevel::Debug));
    CHECK(child.enabled(LogLevel::Debug));  // inherits from "levels-test"
    CHECK((LogConfig::levelFor("levels-test") == LogLevel::Debug));

    LogConfig::setComponentLevel("levels-test", LogLevel::Off);
    CHECK_FALSE(log.enabled(LogLevel::Error));
    CHECK(captureStderr([&] { log.error("hidden too"); }).empty());
    LogConfig::setComponentLevel("levels-test", LogLevel::Info);

    Logger other("levels-other");
    LogConfig::setDefaultLevel(LogLevel::Error);
    CHECK_FALSE(other.enabled(LogLevel::Warn));
    Logger copy("x");
    copy = log;
    CHECK(copy.enabled(LogLevel::Info));
}

TEST_CASE("log levels parse from their names") {
    LogLevel l;
    CHECK(parseLogLevel("warn", l));
    CHECK((l == LogLevel::Warn));
    CHECK_FALSE(parseLogLevel("WARNING", l));
    CHECK(logLevelName(LogLevel::Trace) == "trace");
}
